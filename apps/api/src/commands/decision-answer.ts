import type { DecisionRecord } from '@timeline/database';
import type { FastifyReply } from 'fastify';
import type { RejectionReason } from '@timeline/domain';
import { Problem } from '@timeline/problems';
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
  if (decision.outcome === 'rejected') throw rejectionProblem(decision.reason as RejectionReason, decision.detail ?? '', decision.commandId);
  return accepted(decision);
}

export function rejectionProblem(reason: RejectionReason, detail: string, commandId: string): Problem {
  const extensions = { commandId };
  switch (reason) {
    case 'timeline_not_found':
      return new Problem('timeline-not-found', 404, detail, extensions);
    case 'event_not_found':
      return new Problem('event-not-found', 404, detail, extensions);
    case 'timeline_exists':
      return new Problem('timeline-exists', 409, detail, extensions);
    case 'event_exists':
      return new Problem('event-exists', 409, detail, extensions);
    case 'version_conflict':
      return new Problem('version-conflict', 409, detail, extensions);
    case 'revision_conflict':
      return new Problem('revision-conflict', 409, detail, extensions);
    case 'event_retracted':
      return new Problem('event-retracted', 422, detail, extensions);
    case 'malformed':
      return new Problem('malformed-command', 422, detail, extensions);
    case 'unprocessable':
      return new Problem('unprocessable-command', 422, detail, extensions);
    default: {
      const unknown: never = reason;
      return new Problem('internal', 500, `unknown rejection ${String(unknown)}`);
    }
  }
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
