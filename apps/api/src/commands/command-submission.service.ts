import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { AppendFailed, type Appended, COMMAND_HEADERS, CommandLog, commandRecord, TRACEPARENT, type RecordAppender } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { DecisionRepository, type DecisionRecord } from '@timeline/database';
import { nameBasedUuid, type TimelineCommand } from '@timeline/domain';
import { activeTraceHeaders, ApiMetrics, type AnswerOutcome } from '@timeline/observability';
import { Problem } from '@timeline/problems';
import type { WriteHeaders } from '../http/request-headers';
import { DecisionWaiters, type NotifiedDecision } from './decision-waiters';

/** A command as a request describes it; the submission gives it its id and fingerprint. */
export type CommandDraft = TimelineCommand extends infer C ? (C extends TimelineCommand ? Omit<C, 'commandId' | 'fingerprint'> : never) : never;

/** A write as its command handler describes it. */
export interface TimelineWrite {
  draft: CommandDraft;
  /** What identifies the request for idempotency besides its preconditions: route, ids and body. */
  request: Record<string, unknown>;
  headers: WriteHeaders;
  /** Given when the draft names something after the command (a new event's id); else the request's `commandIdFor`. */
  commandId?: string;
}

export type Submission =
  | { state: 'decided'; decision: DecisionRecord }
  | { state: 'pending'; commandId: string };

/**
 * Appends commands to timeline.commands and waits, within a bound, for the
 * projector's decision. A retry with the same Idempotency-Key maps to the same
 * command id, so it is decided once and gets the first answer.
 */
@Injectable()
export class CommandSubmissionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(CommandSubmissionService.name);
  private appender!: RecordAppender;

  constructor(
    private readonly config: TimelineConfig,
    private readonly log: CommandLog,
    private readonly decisions: DecisionRepository,
    private readonly waiters: DecisionWaiters,
    private readonly metrics: ApiMetrics,
  ) {}

  async onModuleInit(): Promise<void> {
    this.appender = await this.log.appender(this.config.kafka.commandsTopic, this.config.producer);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.appender?.close();
  }

  /** Submits and counts the answer by command type and outcome. */
  async submit(write: TimelineWrite): Promise<Submission> {
    try {
      const result = await this.appendAndWait(write);
      if (result.state === 'pending') this.metrics.commandAnswered(write.draft.type, 'pending');
      else this.metrics.commandAnswered(result.decision.commandType, result.decision.outcome);
      return result;
    } catch (error) {
      this.metrics.commandAnswered(write.draft.type, answerOutcomeOf(error));
      throw error;
    }
  }

  private async appendAndWait({ draft, request, headers, commandId = commandIdFor(draft.timelineId, headers.idempotencyKey) }: TimelineWrite): Promise<Submission> {
    const { idempotencyKey, expectedVersion, traceparent } = headers;
    const fingerprint = fingerprintOf({ ...request, expectedVersion });
    if (idempotencyKey) {
      const earlier = await this.decisionOf(commandId);
      if (earlier) return answered(earlier, fingerprint);
    }
    const command = { ...draft, commandId, fingerprint } as TimelineCommand;
    const decided = this.waiters.wait(commandId, this.config.decisionTimeoutMs);
    const calledAt = performance.now();
    let appended: Appended;
    try {
      appended = await this.appender.append(
        commandRecord(command, {
          [COMMAND_HEADERS.traceparent]: traceparentFor(traceparent),
          // The request's span, child of the caller's traceparent (see HttpInstrumentation), when there is one.
          ...activeTraceHeaders(),
        }),
      );
      this.metrics.commandAppended(command.type);
    } catch (error) {
      this.waiters.cancel(commandId);
      this.logger.error(`append of ${command.type} ${commandId} failed: ${(error as Error).message}`);
      throw logUnavailable(error, commandId, idempotencyKey !== undefined);
    }
    const acknowledgedAt = performance.now();
    // In the log now: whatever happens to PostgreSQL, the answer is the decision or a 202 to poll.
    const notified = await decided;
    if (notified) this.observeStages(calledAt, appended.sentAt, acknowledgedAt, notified);
    const decision = notified?.decision ?? (await this.decisionOf(commandId));
    return decision ? answered(decision, fingerprint) : { state: 'pending', commandId };
  }

  /** Where the time of a write decided within its wait went (see `AppendStage`). */
  private observeStages(calledAt: number, sentAt: number, acknowledgedAt: number, { notifiedAt }: NotifiedDecision): void {
    const inHandAt = performance.now();
    this.metrics.appendStage('queued', (sentAt - calledAt) / 1_000);
    this.metrics.appendStage('produced', (acknowledgedAt - sentAt) / 1_000);
    // The notification can come before the acknowledgement reaches us: that stage then took no time.
    this.metrics.appendStage('notified', (notifiedAt - acknowledgedAt) / 1_000);
    this.metrics.appendStage('decision_read', (inHandAt - Math.max(notifiedAt, acknowledgedAt)) / 1_000);
  }

  /** The decision on a command, or null when there is none yet or PostgreSQL does not answer. */
  private async decisionOf(commandId: string): Promise<DecisionRecord | null> {
    try {
      const [decision] = await this.decisions.findByCommandIds([commandId]);
      return decision ?? null;
    } catch (error) {
      // The projector decides a command id once, so appending (again) is safe while this is unknown.
      this.logger.warn(`decision of ${commandId} not read: ${(error as Error).message}`);
      return null;
    }
  }
}

/** A retry with the same Idempotency-Key maps to the same command id: it is decided once. */
export function commandIdFor(timelineId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey ? nameBasedUuid(`idempotency:${timelineId}:${idempotencyKey}`) : randomUUID();
}

/** Seconds a caller should wait before retrying a write the log did not take. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The 503 of a write the log did not take. When the record may be in the log
 * all the same (the send timed out or failed in flight), a retry is safe only
 * with the same Idempotency-Key: the answer says so and names the command.
 */
function logUnavailable(error: unknown, commandId: string, keyed: boolean): Problem {
  const mayHaveBeenRecorded = !(error instanceof AppendFailed) || error.mayHaveBeenRecorded;
  const headers = { 'retry-after': String(RETRY_AFTER_SECONDS) };
  if (!mayHaveBeenRecorded) {
    return new Problem('log-unavailable', 'the command log did not take the command; it was not recorded and it is safe to retry', { retryable: true, recorded: false }, headers);
  }
  const retry = keyed
    ? 'retry with the same Idempotency-Key: it is decided once either way'
    : 'GET /v1/commands/{commandId} says whether it was; a blind retry may record it twice (an Idempotency-Key makes retries safe)';
  return new Problem(
    'log-unavailable',
    `the command log did not acknowledge the command in time; it may have been recorded: ${retry}`,
    { retryable: true, recorded: 'unknown', commandId, location: `/v1/commands/${commandId}` },
    headers,
  );
}

function answerOutcomeOf(error: unknown): AnswerOutcome {
  if (!(error instanceof Problem)) return 'failed';
  if (error.code === 'idempotency-key-reused') return 'idempotency_conflict';
  return error.code === 'log-unavailable' ? 'append_failed' : 'failed';
}

function answered(decision: DecisionRecord, fingerprint: string): Submission {
  if (decision.fingerprint !== null && decision.fingerprint !== fingerprint) {
    throw new Problem('idempotency-key-reused', 'this Idempotency-Key was first used with another request', {
      commandId: decision.commandId,
    });
  }
  return { state: 'decided', decision };
}

/** W3C trace context: the caller's `traceparent` when valid, else the start of a new trace. */
function traceparentFor(incoming: string | undefined): string {
  if (incoming && TRACEPARENT.test(incoming)) return incoming;
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

export function fingerprintOf(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('base64url');
}

/** JSON with object keys sorted, so that key order does not change a fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
