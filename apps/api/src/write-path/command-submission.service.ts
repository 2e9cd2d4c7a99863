import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  AppendFailed,
  AppendQueueFull,
  type Appended,
  COMMAND_HEADERS,
  type CommandDraft,
  CommandLog,
  commandRecord,
  fingerprintOf,
  type OutgoingRecord,
  redactionRecord,
  TRACEPARENT,
  type RecordAppender,
} from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { DecisionRepository, LsnClock, type DecisionRecord } from '@timeline/database';
import { nameBasedUuid, type LogCommand, type Redact, type TimelineCommand } from '@timeline/domain';
import { activeTraceHeaders } from '@timeline/observability';
import { Problem } from '@timeline/problems';
import type { WriteHeaders } from '../http/request-headers';
import { ApiMetrics, type AnswerOutcome } from '../observability/api-metrics';
import { Admission } from './admission';
import { DecisionWaiters, type NotifiedDecision } from './decision-waiters';

/** A write as its command handler describes it. */
export interface TimelineWrite {
  draft: CommandDraft;
  /** What identifies the request for idempotency besides its preconditions: route, ids and body. */
  request: Record<string, unknown>;
  headers: WriteHeaders;
  /** Given when the draft names something after the command (a new event's id); else the request's `commandIdFor`. */
  commandId?: string;
}

/** A decided submission carries the consistency token of its answer (none only when the primary did not give one). */
export type Submission = { state: 'decided'; decision: DecisionRecord; consistencyToken?: string } | { state: 'pending'; commandId: string };

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
    private readonly admission: Admission,
    private readonly clock: LsnClock,
  ) {}

  async onModuleInit(): Promise<void> {
    this.appender = await this.log.appender(this.config.kafka.commandsTopic, this.config.producer);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.appender?.close();
  }

  /** Submits one write and counts its answer by command type and outcome. */
  async submit(write: TimelineWrite): Promise<Submission> {
    const [submission] = await this.submitBatch([write]);
    return submission;
  }

  /**
   * Submits the commands of one request, each counted against admission, and answers them in the order
   * given. They are appended in one produce call (a batch's timeline is the key, so one partition): all
   * are refused or all are taken. Commands decided earlier (a retry with the same Idempotency-Key) are
   * answered from their decision and not appended again.
   */
  async submitBatch(writes: TimelineWrite[]): Promise<Submission[]> {
    try {
      const results = await this.admission.whileAdmitted(writes.length, () => this.appendAndWait(writes));
      results.forEach((result, index) => {
        if (result.state === 'pending') this.metrics.commandAnswered(writes[index].draft.type, 'pending');
        else this.metrics.commandAnswered(result.decision.commandType, result.decision.outcome);
      });
      if (!results.some((result) => result.state === 'decided')) return results;
      const consistencyToken = await this.consistencyToken();
      return results.map((result) => (result.state === 'decided' && consistencyToken ? { ...result, consistencyToken } : result));
    } catch (error) {
      for (const write of writes) this.metrics.commandAnswered(write.draft.type, answerOutcomeOf(error));
      throw error;
    }
  }

  private async appendAndWait(writes: TimelineWrite[]): Promise<Submission[]> {
    const { idempotencyKey, traceparent } = writes[0].headers;
    const submitted = writes.map(({ draft, request, headers, commandId = commandIdFor(draft.timelineId, headers.idempotencyKey) }) => {
      const fingerprint = fingerprintOf({ ...request, expectedVersion: headers.expectedVersion });
      return { fingerprint, command: { ...draft, commandId, fingerprint } };
    });
    const commands = submitted.map(({ command }) => command);
    const earlier = idempotencyKey ? await this.decisionsOf(commands.map((command) => command.commandId)) : new Map<string, DecisionRecord>();
    // Another request under the same key is refused whole, before anything is appended.
    for (const { command, fingerprint } of submitted) {
      const decision = earlier.get(command.commandId);
      if (decision) answered(decision, fingerprint);
    }
    const toAppend = commands.filter((command) => !earlier.has(command.commandId));
    const decisions = new Map(earlier);
    if (toAppend.length > 0) {
      for (const [commandId, decision] of await this.append(toAppend, traceparent, idempotencyKey !== undefined)) decisions.set(commandId, decision);
    }
    return submitted.map(({ command, fingerprint }) => {
      const decision = decisions.get(command.commandId);
      return decision ? answered(decision, fingerprint) : { state: 'pending', commandId: command.commandId };
    });
  }

  /**
   * Appends a redaction to every partition of timeline.commands, one record each under a command id derived
   * from the redaction id and the partition (docs/redaction.md), and waits, within the bound, for every
   * partition's decision. A retry with the same Idempotency-Key appends only to the partitions that have
   * not decided it; another request under the same key is refused before anything is appended.
   * Answers how many partitions there are and how many have decided it.
   */
  async submitRedaction(redaction: Pick<Redact, 'redactionId' | 'kind' | 'valueHash'>, request: Record<string, unknown>, headers: WriteHeaders) {
    const topic = this.config.kafka.commandsTopic;
    let partitions: number;
    try {
      partitions = await this.log.partitionCount(topic);
    } catch (error) {
      throw logUnavailable(new AppendFailed((error as Error).message, false), [], headers.idempotencyKey !== undefined);
    }
    const fingerprint = fingerprintOf(request);
    const commands = Array.from({ length: partitions }, (_, partition): Redact => ({
      type: 'Redact',
      commandId: redactionCommandId(redaction.redactionId, partition),
      ...redaction,
      partitions,
      fingerprint,
    }));
    const partitionOf = new Map(commands.map((command, partition) => [command.commandId, partition]));
    try {
      const decided = await this.admission.whileAdmitted(partitions, async () => {
        const earlier = await this.decisionsOf(commands.map((command) => command.commandId));
        for (const decision of earlier.values()) answered(decision, fingerprint);
        const toAppend = commands.filter((command) => !earlier.has(command.commandId));
        if (toAppend.length === 0) return earlier.size;
        const toRecord = (command: LogCommand, traceHeaders: Record<string, string>) =>
          redactionRecord(command as Redact, partitionOf.get(command.commandId)!, traceHeaders);
        const appended = await this.append(toAppend, headers.traceparent, headers.idempotencyKey !== undefined, toRecord);
        return earlier.size + appended.size;
      });
      this.metrics.commandAnswered('Redact', decided === partitions ? 'accepted' : 'pending');
      return { partitions, decided, consistencyToken: decided === partitions ? await this.consistencyToken() : undefined };
    } catch (error) {
      this.metrics.commandAnswered('Redact', answerOutcomeOf(error));
      throw error;
    }
  }

  /** Appends the commands together and waits, within the bound, for their decisions: those there are, by command id. */
  private async append(
    commands: LogCommand[],
    traceparent: string | undefined,
    keyed: boolean,
    toRecord: (command: LogCommand, traceHeaders: Record<string, string>) => OutgoingRecord = (command, traceHeaders) =>
      commandRecord(command as TimelineCommand, traceHeaders),
  ): Promise<Map<string, DecisionRecord>> {
    const decided = commands.map((command) => this.waiters.wait(command.commandId, this.config.decisionTimeoutMs));
    // The request's span, child of the caller's traceparent (see HttpInstrumentation), when there is one.
    const traceHeaders = { [COMMAND_HEADERS.traceparent]: traceparentFor(traceparent), ...activeTraceHeaders() };
    const calledAt = performance.now();
    let appended: Appended;
    try {
      appended = await this.appender.appendAll(commands.map((command) => toRecord(command, traceHeaders)));
      for (const command of commands) this.metrics.commandAppended(command.type);
    } catch (error) {
      for (const command of commands) this.waiters.cancel(command.commandId);
      if (error instanceof AppendQueueFull) throw this.admission.refuse('append_queue', commands.length, error.message);
      this.logger.error(`append of ${commands.length} command(s) (${commands[0].type} ${commands[0].commandId} first) failed: ${(error as Error).message}`);
      throw logUnavailable(
        error,
        commands.map((command) => command.commandId),
        keyed,
      );
    }
    const acknowledgedAt = performance.now();
    // In the log now: whatever happens to PostgreSQL, the answer is the decision or a 202 to poll.
    const decisions = new Map<string, DecisionRecord>();
    for (const notified of await Promise.all(decided)) {
      if (!notified) continue;
      this.observeStages(calledAt, appended.sentAt, acknowledgedAt, notified);
      decisions.set(notified.decision.commandId, notified.decision);
    }
    const late = commands.map((command) => command.commandId).filter((commandId) => !decisions.has(commandId));
    if (late.length > 0) for (const [commandId, decision] of await this.decisionsOf(late)) decisions.set(commandId, decision);
    return decisions;
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

  /**
   * The token of answers whose decisions are in hand: the primary's WAL position now, after their commits
   * (see LsnClock). None when the primary does not give it: the write is decided, and its answer must not
   * turn into an error for want of a token (a read without one may just not see it at once).
   */
  async consistencyToken(): Promise<string | undefined> {
    try {
      return await this.clock.token();
    } catch (error) {
      this.logger.warn(`no consistency token for a decided write: ${(error as Error).message}`);
      return undefined;
    }
  }

  /** The decisions there are on these commands, by command id; none when PostgreSQL does not answer. */
  private async decisionsOf(commandIds: string[]): Promise<Map<string, DecisionRecord>> {
    try {
      return new Map((await this.decisions.findByCommandIds(commandIds)).map((decision) => [decision.commandId, decision]));
    } catch (error) {
      // The projector decides a command id once, so appending (again) is safe while this is unknown.
      this.logger.warn(`decisions of ${commandIds.length} command(s) not read: ${(error as Error).message}`);
      return new Map();
    }
  }
}

/** A retry with the same Idempotency-Key maps to the same command id: it is decided once. */
export function commandIdFor(timelineId: string, idempotencyKey: string | undefined): string {
  return idempotencyKey ? nameBasedUuid(`idempotency:${timelineId}:${idempotencyKey}`) : randomUUID();
}

/** The command id of a redaction's record in one partition: each partition decides it once. */
export function redactionCommandId(redactionId: string, partition: number): string {
  return nameBasedUuid(`redaction:${redactionId}/${partition}`);
}

/** Seconds a caller should wait before retrying a write the log did not take. */
const RETRY_AFTER_SECONDS = 1;

/**
 * The 503 of a write the log did not take. When the record may be in the log
 * all the same (the send timed out or failed in flight), a retry is safe only
 * with the same Idempotency-Key: the answer says so and names the command.
 */
function logUnavailable(error: unknown, commandIds: string[], keyed: boolean): Problem {
  const mayHaveBeenRecorded = !(error instanceof AppendFailed) || error.mayHaveBeenRecorded;
  const headers = { 'retry-after': String(RETRY_AFTER_SECONDS) };
  if (!mayHaveBeenRecorded) {
    return new Problem(
      'log-unavailable',
      'the command log did not take the command; it was not recorded and it is safe to retry',
      { retryable: true, recorded: false },
      headers,
    );
  }
  const retry = keyed
    ? 'retry with the same Idempotency-Key: it is decided once either way'
    : 'GET /v1/commands/{commandId} says whether it was; a blind retry may record it twice (an Idempotency-Key makes retries safe)';
  const [commandId] = commandIds;
  // A batch names every command it appended; one command also names where to follow it.
  const named = commandIds.length === 1 ? { commandId, location: `/v1/commands/${commandId}` } : { commandIds };
  return new Problem(
    'log-unavailable',
    `the command log did not acknowledge the command in time; it may have been recorded: ${retry}`,
    { retryable: true, recorded: 'unknown', ...named },
    headers,
  );
}

function answerOutcomeOf(error: unknown): AnswerOutcome {
  if (!(error instanceof Problem)) return 'failed';
  if (error.code === 'idempotency-key-reused') return 'idempotency_conflict';
  if (error.code === 'overloaded') return 'overloaded';
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
