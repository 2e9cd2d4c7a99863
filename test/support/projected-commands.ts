import { randomUUID } from 'node:crypto';
import { commandRecord, redactionRecord, type LogRecord, type OutgoingRecord } from '@timeline/command-log';
import { ProjectionRepository, type BatchToApply } from '@timeline/database';
import { commandSchema, type EventChanges, type Redact, type TimelineCommand } from '@timeline/domain';
import { decideBatch, decidedOn, parseRecord, referencedIds, rejectedRecord, type DecidedBatch, type ParsedRecord } from '@timeline/projection';
import { reportedStatement } from '@timeline/dev-stack';

const TOPIC = 'timeline.commands';

/**
 * Decides `commands` against the stored read models and writes them as one batch of `partition`, as the
 * projector does with a batch from Kafka (without Kafka): read models, decisions, outbox rows, the
 * partition's offset. For the int tests of the repositories that read what the projector wrote.
 */
export async function projectCommands(projection: ProjectionRepository, commands: TimelineCommand[], partition = 0): Promise<void> {
  await projectRecords(projection, commands.map(recordOf), { partition });
}

/** A record of timeline.commands as a producer appends it: a command's record, or anything else found there. */
export type AppendedRecord = Pick<OutgoingRecord, 'value' | 'headers'> | { value: null; headers: Record<string, string> };

export interface ProjectOptions {
  partition?: number;
  /** The broker's append time of every record (ms): the known time of what they change. */
  timestamp?: number;
  /** Decides every record `rejected: unprocessable` with this detail, as the projector does with the one record the database refused. */
  unprocessable?: string;
}

/**
 * One projector batch over `records`, appended after the partition's stored offset (without Kafka): parse,
 * read the stored state, decide, and apply it in one call (ProjectionRepository.applyBatch). Returns what
 * was decided; fails when the batch was not applied.
 */
export async function projectRecords(projection: ProjectionRepository, records: AppendedRecord[], options: ProjectOptions = {}): Promise<DecidedBatch> {
  const partition = options.partition ?? 0;
  const timestamp = options.timestamp ?? Date.now();
  const { storedOffset } = await projection.loadPartitionState(TOPIC, partition, { commandIds: [], timelineIds: [], eventIds: [], redaction: null });
  const logRecords = records.map((record, index) => logRecord(record, partition, storedOffset + index, timestamp));
  const { batch } = await decideRecords(projection, logRecords, options.unprocessable);
  const outcome = await projection.applyBatch(batch);
  if (outcome.kind !== 'applied') throw new Error(`batch of partition ${partition} not applied: ${JSON.stringify(outcome)}`);
  return batch;
}

/**
 * Decides log records on the stored state, as the projector does with a partition it does not remember: the
 * batch to apply (from the first record's offset, past the last) and what it was decided on.
 */
export async function decideRecords(
  projection: ProjectionRepository,
  records: LogRecord[],
  unprocessable?: string,
): Promise<{ batch: BatchToApply & DecidedBatch; storedOffset: number }> {
  const parsed = records.map(parseRecord);
  const partition = records[0].partition;
  const ids = referencedIds(parsed);
  const { alreadyDecided, storedOffset, ...stored } = await projection.loadPartitionState(TOPIC, partition, ids);
  const decided = unprocessable === undefined ? decideBatch(TOPIC, parsed, stored, alreadyDecided) : decidedUnprocessable(parsed, unprocessable);
  const where = { topic: TOPIC, partition, firstOffset: records[0].offset, nextOffset: records[records.length - 1].offset + 1 };
  return { batch: { ...where, ...decided, decidedOn: decidedOn(ids, stored, alreadyDecided) }, storedOffset };
}

function decidedUnprocessable(parsed: ParsedRecord[], detail: string): DecidedBatch {
  const decisions = parsed.map(({ record, command, claimed }) => {
    const ids = command
      ? {
          commandId: command.commandId,
          commandType: command.type,
          timelineId: 'timelineId' in command ? command.timelineId : null,
          eventId: 'eventId' in command ? command.eventId : null,
        }
      : claimed;
    const where = { partition: record.partition, offset: record.offset, knownAt: new Date(record.timestamp).toISOString() };
    return rejectedRecord(TOPIC, record, ids, 'unprocessable', detail, where);
  });
  return { decisions, changes: [], timelines: [], events: [], redelivered: [] };
}

/** The record as a consumer reads it back at `offset`. */
export function logRecord(record: AppendedRecord, partition: number, offset: number, timestamp: number): LogRecord {
  return { partition, offset, timestamp, key: null, value: record.value === null ? null : Buffer.from(record.value), headers: record.headers };
}

/** The record the api appends for a command, or the one a redaction appends to each partition. */
export const recordOf = (command: TimelineCommand | Redact): OutgoingRecord =>
  command.type === 'Redact' ? redactionRecord(command, 0, {}) : commandRecord(command, {});

/** Commands as the api appends them: parsed, defaults filled in, each with an id of its own. */
export const commands = {
  createTimeline: (timelineId: string): TimelineCommand =>
    commandSchema.parse({ type: 'CreateTimeline', commandId: randomUUID(), timelineId, timeline: { title: `Timeline ${timelineId}`, defaultLanguage: 'it' } }),
  recordEvent: (timelineId: string, n = 1): TimelineCommand => {
    const { eventId, ...event } = reportedStatement(n);
    return commandSchema.parse({ type: 'RecordEvent', commandId: randomUUID(), timelineId, eventId, event });
  },
  reviseEvent: (timelineId: string, eventId: string, changes: EventChanges): TimelineCommand =>
    commandSchema.parse({ type: 'ReviseEvent', commandId: randomUUID(), timelineId, eventId, changes, reason: 'Corrected from the minutes' }),
};
