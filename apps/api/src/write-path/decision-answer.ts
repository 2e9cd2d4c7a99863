import type { DecisionRecord, DecisionRejectionReason } from '@timeline/database';
import type { FastifyReply } from 'fastify';
import { Problem, type ProblemCode } from '@timeline/problems';
import { CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import type { Submission } from './command-submission.service';

export interface Answer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** 202 while the decision is pending, the rejection's problem, or `accepted(decision)`. */
export function answerFor(submission: Submission, accepted: (decision: DecisionRecord) => Answer): Answer {
  if (submission.state === 'pending') {
    const location = `/v1/commands/${submission.commandId}`;
    return { status: 202, body: { commandId: submission.commandId, status: 'pending', location }, headers: { location } };
  }
  const { decision } = submission;
  if (decision.outcome === 'rejected') throw rejectionProblem(decision.reason as DecisionRejectionReason, decision.detail ?? '', decision.commandId);
  return withConsistencyToken(accepted(decision), submission.consistencyToken);
}

/** The answer with the `Consistency-Token` header of its write, when there is one. */
export function withConsistencyToken(answer: Answer, consistencyToken: string | undefined): Answer {
  return consistencyToken ? { ...answer, headers: { ...answer.headers, [CONSISTENCY_TOKEN_HEADER]: consistencyToken } } : answer;
}

/** The problem each rejection reason is answered with. */
const REJECTION_PROBLEMS: Record<DecisionRejectionReason, ProblemCode> = {
  timeline_not_found: 'timeline-not-found',
  event_not_found: 'event-not-found',
  timeline_exists: 'timeline-exists',
  event_exists: 'event-exists',
  version_conflict: 'version-conflict',
  revision_conflict: 'revision-conflict',
  event_retracted: 'event-retracted',
  malformed: 'malformed-command',
  unprocessable: 'unprocessable-command',
};

function rejectionProblem(reason: DecisionRejectionReason, detail: string, commandId: string): Problem {
  // The reason comes from the database: one this api does not know is our fault, not the caller's.
  if (!Object.hasOwn(REJECTION_PROBLEMS, reason)) return new Problem('internal', `unknown rejection ${String(reason)}`);
  return new Problem(REJECTION_PROBLEMS[reason], detail, { commandId });
}

/** The answer to an accepted event command: the event as this command left it. */
export function eventAnswer(status: number) {
  return (decision: DecisionRecord): Answer => ({
    status,
    body: { event: decision.event, revision: decision.revision, version: decision.version, commandId: decision.commandId },
    headers: { etag: `"${decision.version}"` },
  });
}

/** Sets status and headers of an answer; returns the body for Nest to serialise. */
export function send(reply: FastifyReply, answer: Answer): unknown {
  void reply.status(answer.status).headers(answer.headers);
  return answer.body;
}
