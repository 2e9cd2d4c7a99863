import { randomUUID } from 'node:crypto';
import { ProjectionRepository } from '@timeline/database';
import { commandSchema, type EventChanges, type TimelineCommand } from '@timeline/domain';
import { decideBatch, referencedIds, type ParsedRecord } from '../../apps/projector/src/projection/decide-batch';
import { reportedStatement } from '@timeline/dev-stack';

const TOPIC = 'timeline.commands';

/**
 * Decides `commands` against the stored read models and writes them as one batch of `partition`, as the
 * projector does with a batch from Kafka (without Kafka): read models, decisions, outbox rows, the
 * partition's offset. For the int tests of the repositories that read what the projector wrote.
 */
export async function projectCommands(projection: ProjectionRepository, commands: TimelineCommand[], partition = 0): Promise<void> {
  const timestamp = Date.now();
  await projection.inTransaction(async (client) => {
    const firstOffset = await projection.lockOffset(client, TOPIC, partition);
    const records = commands.map(
      (command, index): ParsedRecord => ({
        record: { partition, offset: firstOffset + index, timestamp, key: command.timelineId, value: null, headers: {} },
        command,
        malformed: null,
        claimed: { commandId: null, commandType: null, timelineId: null, eventId: null },
      }),
    );
    const { alreadyDecided, ...stored } = await projection.loadBatchState(client, partition, referencedIds(records));
    const decided = decideBatch(TOPIC, records, stored, alreadyDecided);
    if (!(await projection.saveBatch(client, { topic: TOPIC, partition, firstOffset, nextOffset: firstOffset + commands.length, ...decided }))) {
      throw new Error(`the offset of partition ${partition} moved`);
    }
  });
}

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
