import { randomUUID } from 'node:crypto';
import { commandRecord, redactionRecord, type LogRecord, type OutgoingRecord } from '@timeline/command-log';
import { ProjectionRepository } from '@timeline/database';
import { commandSchema, type EventChanges, type Redact, type TimelineCommand } from '@timeline/domain';
import type { PoolClient } from 'pg';
import { decideBatch, parseRecord, referencedIds, rejectedRecord, type DecidedBatch } from '@timeline/projection';
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
 * One projector transaction over `records`, appended after the partition's stored offset (without Kafka):
 * parse, load, decide, write the redaction (if one is decided) and the batch. Returns what was decided.
 */
export async function projectRecords(projection: ProjectionRepository, records: AppendedRecord[], options: ProjectOptions = {}): Promise<DecidedBatch> {
  const partition = options.partition ?? 0;
  return projection.inTransaction(async (client) => {
    const firstOffset = await projection.lockOffset(client, TOPIC, partition);
    const timestamp = options.timestamp ?? Date.now();
    const logRecords = records.map((record, index) => logRecord(record, partition, firstOffset + index, timestamp));
    const decided = await decideRecords(projection, client, logRecords, options.unprocessable);
    if (decided.redaction) await projection.saveRedaction(client, partition, decided.redaction);
    if (!(await projection.saveBatch(client, { topic: TOPIC, partition, firstOffset, nextOffset: firstOffset + records.length, ...decided }))) {
      throw new Error(`the offset of partition ${partition} moved`);
    }
    return decided;
  });
}

/** Decides log records against what `client` sees stored, as the projector's transaction does before it writes. */
export async function decideRecords(projection: ProjectionRepository, client: PoolClient, records: LogRecord[], unprocessable?: string): Promise<DecidedBatch> {
  const parsed = records.map(parseRecord);
  const { alreadyDecided, ...stored } = await projection.loadBatchState(client, records[0].partition, referencedIds(parsed));
  if (unprocessable === undefined) return decideBatch(TOPIC, parsed, stored, alreadyDecided);
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
    return rejectedRecord(TOPIC, record, ids, 'unprocessable', unprocessable, where);
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
