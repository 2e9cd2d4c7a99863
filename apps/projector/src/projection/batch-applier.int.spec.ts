import { afterAll, beforeAll, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { LogRecord } from '@timeline/command-log';
import { ProjectionRepository } from '@timeline/database';
import { reportedStatement } from '@timeline/dev-stack';
import { commandSchema, redactionHash, type Redact, type TimelineCommand } from '@timeline/domain';
import { createMigratedDatabase, type MigratedDatabase } from '../../../../test/support/migrated-database';
import { commands, logRecord, recordOf } from '../../../../test/support/projected-commands';
import { BatchApplier, type LogPosition } from './batch-applier';
import { OffsetMovedError } from './batch-failure';

const TOPIC = 'timeline.commands';
const T1 = Date.parse('2026-01-10T09:00:00.000Z');
const ANYWHERE: LogPosition = { logEnd: Infinity, soughtTo: undefined };

const reviseTitle = (timelineId: string, eventId: string, title: string, expectedRevision?: number): TimelineCommand =>
  commandSchema.parse({ type: 'ReviseEvent', commandId: randomUUID(), timelineId, eventId, changes: { title }, reason: 'Corrected', expectedRevision });
const recordEvent = (timelineId: string, eventId: string, event: object = {}): TimelineCommand => {
  const { eventId: _unused, ...statement } = reportedStatement(1);
  return commandSchema.parse({ type: 'RecordEvent', commandId: randomUUID(), timelineId, eventId, event: { ...statement, ...event } });
};
const eventIdOf = (command: TimelineCommand) => ('eventId' in command ? command.eventId : '');

describe('the batch applier: one call per batch of a partition it remembers', () => {
  let database: MigratedDatabase;
  let projection: ProjectionRepository;
  let nextPartition = 0;
  let loads: jest.SpiedFunction<ProjectionRepository['loadPartitionState']>;
  let applies: jest.SpiedFunction<ProjectionRepository['applyBatch']>;

  const records = (partition: number, firstOffset: number, appended: (TimelineCommand | Redact)[]): LogRecord[] =>
    appended.map((command, index) => logRecord(recordOf(command), partition, firstOffset + index, T1 + firstOffset));
  const decisionOf = async (commandId: string) => (await database.pool.query('select * from decisions where command_id = $1', [commandId])).rows[0];
  const revisionsOf = async (eventId: string) =>
    (await database.pool.query<{ revision: number }>('select revision from event_revisions where event_id = $1 order by revision', [eventId])).rows.map(
      (row) => row.revision,
    );
  const storedOffset = async (partition: number) =>
    (await database.pool.query('select next_offset from consumer_offsets where topic = $1 and partition = $2', [TOPIC, partition])).rows[0]?.next_offset;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    projection = new ProjectionRepository(database.pool);
  });
  afterAll(() => database?.drop());
  beforeEach(() => {
    jest.restoreAllMocks();
    loads = jest.spyOn(projection, 'loadPartitionState');
    applies = jest.spyOn(projection, 'applyBatch');
  });

  test('a partition it does not remember is read first; then each batch is one call', async () => {
    const at = nextPartition++;
    const owner = new BatchApplier(TOPIC, projection);
    const created = commands.createTimeline(`remembered-${at}`);
    const recorded = commands.recordEvent(`remembered-${at}`);
    await owner.apply(at, records(at, 0, [created, recorded]), ANYWHERE);
    expect([loads.mock.calls.length, applies.mock.calls.length]).toEqual([1, 1]);

    const revised = reviseTitle(`remembered-${at}`, eventIdOf(recorded), 'Rivisto', 1);
    const more = commands.recordEvent(`remembered-${at}`, 2);
    expect(await owner.apply(at, records(at, 2, [revised, more]), ANYWHERE)).toMatchObject({ outcome: { kind: 'applied' } });
    expect([loads.mock.calls.length, applies.mock.calls.length]).toEqual([1, 2]);
    expect(await decisionOf(revised.commandId)).toMatchObject({ outcome: 'accepted', revision: 2, version: 3 });
    expect(await decisionOf(more.commandId)).toMatchObject({ outcome: 'accepted', revision: 1, version: 4 });
    expect(await storedOffset(at)).toBe(4);
  });

  test('after a failed compare-and-set it forgets the partition: the records are decided again on what the other owner stored', async () => {
    const at = nextPartition++;
    const timelineId = `fenced-${at}`;
    const fenced = new BatchApplier(TOPIC, projection);
    const recorded = commands.recordEvent(timelineId);
    await fenced.apply(at, records(at, 0, [commands.createTimeline(timelineId), recorded]), ANYWHERE);

    // Meanwhile the partition went to another owner, which applied offset 2: revision 2 of the event.
    const byOther = reviseTitle(timelineId, eventIdOf(recorded), 'Rivisto altrove');
    await new BatchApplier(TOPIC, projection).apply(at, records(at, 2, [byOther]), ANYWHERE);

    // The fenced owner, remembering revision 1 at offset 2, reads offsets 2 and 3.
    const expectsTwo = reviseTitle(timelineId, eventIdOf(recorded), 'Rivisto dopo', 2);
    const chunk = records(at, 2, [byOther, expectsTwo]);
    await expect(fenced.apply(at, chunk, ANYWHERE)).rejects.toBeInstanceOf(OffsetMovedError);
    expect(await decisionOf(expectsTwo.commandId)).toBeUndefined();

    // Retried, as the projector does: read from the database, offset 2 is skipped, offset 3 decided on revision 2.
    expect(await fenced.apply(at, chunk, ANYWHERE)).toMatchObject({ outcome: { kind: 'applied' } });
    expect(await decisionOf(byOther.commandId)).toMatchObject({ outcome: 'accepted', revision: 2, topic_offset: 2 });
    expect(await decisionOf(expectsTwo.commandId)).toMatchObject({ outcome: 'accepted', revision: 3, topic_offset: 3 });
    expect(await revisionsOf(eventIdOf(recorded))).toEqual([1, 2, 3]);
    expect(await storedOffset(at)).toBe(4);
  });

  test('after a reassignment it forgets every partition: its next batch is decided on what the other owner stored', async () => {
    const at = nextPartition++;
    const timelineId = `reassigned-${at}`;
    const owner = new BatchApplier(TOPIC, projection);
    const recorded = commands.recordEvent(timelineId);
    await owner.apply(at, records(at, 0, [commands.createTimeline(timelineId), recorded]), ANYWHERE);
    owner.forgetAll(); // the partition was revoked
    await new BatchApplier(TOPIC, projection).apply(at, records(at, 2, [reviseTitle(timelineId, eventIdOf(recorded), 'Rivisto altrove')]), ANYWHERE);
    // Assigned back: the next record expects the other owner's revision and version.
    const next = reviseTitle(timelineId, eventIdOf(recorded), 'Rivisto qui', 2);
    const loadsBefore = loads.mock.calls.length;
    expect(await owner.apply(at, records(at, 3, [next]), ANYWHERE)).toMatchObject({ outcome: { kind: 'applied' } });
    expect(loads.mock.calls.length).toBe(loadsBefore + 1);
    expect(await decisionOf(next.commandId)).toMatchObject({ outcome: 'accepted', revision: 3, version: 4 });
  });

  test('what it does not remember it takes as absent; when the database holds it (another partition wrote it), the batch is read and decided again', async () => {
    const [here, there] = [nextPartition++, nextPartition++];
    const owner = new BatchApplier(TOPIC, projection);
    await owner.apply(here, records(here, 0, [commands.createTimeline(`here-${here}`)]), ANYWHERE);
    const elsewhere = commands.recordEvent(`there-${there}`);
    await new BatchApplier(TOPIC, projection).apply(there, records(there, 0, [commands.createTimeline(`there-${there}`), elsewhere]), ANYWHERE);

    const sameId = recordEvent(`here-${here}`, eventIdOf(elsewhere));
    const [loadsBefore, appliesBefore] = [loads.mock.calls.length, applies.mock.calls.length];
    await owner.apply(here, records(here, 1, [sameId]), ANYWHERE);
    await expect(applies.mock.results.at(-2)!.value).resolves.toEqual({ kind: 'state-changed' });
    expect([loads.mock.calls.length - loadsBefore, applies.mock.calls.length - appliesBefore]).toEqual([1, 2]);
    expect(await decisionOf(sameId.commandId)).toMatchObject({ outcome: 'rejected', reason: 'event_exists', topic_offset: 1 });
    expect(await storedOffset(here)).toBe(2);
  });

  test('a command decided before (a redelivery) is found by the check and answered as decided, not decided twice', async () => {
    const at = nextPartition++;
    const owner = new BatchApplier(TOPIC, projection);
    const created = commands.createTimeline(`redelivered-${at}`);
    await owner.apply(at, records(at, 0, [created]), ANYWHERE);
    // The same command appended again (a producer retry), after the partition was remembered.
    await owner.apply(at, records(at, 1, [created]), ANYWHERE);
    expect(await decisionOf(created.commandId)).toMatchObject({ outcome: 'accepted', topic_offset: 0 });
    expect(await storedOffset(at)).toBe(2);
  });

  test('after a redaction it forgets the partition: the rows were rewritten', async () => {
    const at = nextPartition++;
    const timelineId = `redacted-${at}`;
    const owner = new BatchApplier(TOPIC, projection);
    const actorId = 'fumio-kishida';
    const recorded = recordEvent(timelineId, randomUUID(), { actors: [{ id: actorId, name: 'Fumio Kishida', role: 'Prime minister' }] });
    await owner.apply(at, records(at, 0, [commands.createTimeline(timelineId), recorded]), ANYWHERE);
    const redact: Redact = {
      type: 'Redact',
      commandId: randomUUID(),
      redactionId: randomUUID(),
      kind: 'actor',
      valueHash: redactionHash(actorId),
      partitions: 1,
    };
    await owner.apply(at, records(at, 2, [redact]), ANYWHERE);
    const loadsBefore = loads.mock.calls.length;
    const revised = reviseTitle(timelineId, eventIdOf(recorded), 'Dopo la redazione', 1);
    await owner.apply(at, records(at, 3, [revised]), ANYWHERE);
    expect(loads.mock.calls.length).toBe(loadsBefore + 1);
    const { rows } = await database.pool.query<{ state: { actors: { id: string }[] } }>('select state from events where event_id = $1', [eventIdOf(recorded)]);
    expect(rows[0].state.actors.map((actor) => actor.id)).not.toContain(actorId);
    expect(await decisionOf(revised.commandId)).toMatchObject({ outcome: 'accepted', revision: 2 });
  });
});
