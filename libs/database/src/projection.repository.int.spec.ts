import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { commandSchema, redactionHash, type EventChanges, type EventData, type Redact, type TimelineCommand } from '@timeline/domain';
import { expectEventually } from '../../../test/support/eventually';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { decideRecords, logRecord, projectRecords, recordOf, type ProjectOptions } from '../../../test/support/projected-commands';
import { reportedStatement } from '@timeline/dev-stack';
import { parseNotification } from './decision-notifications';
import { DECISIONS_CHANNEL, ProjectionRepository } from './projection.repository';
import { TimelineReadRepository } from './timeline-read.repository';

const TOPIC = 'timeline.commands';
/** Known times: the broker's append time of each batch. */
const T1 = Date.parse('2026-01-10T09:00:00.000Z');
const T2 = Date.parse('2026-01-11T09:00:00.000Z');
const T3 = Date.parse('2026-01-12T09:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
/** Rows the database refuses: see the check constraint added in beforeAll. */
const REFUSED_TITLE = 'refused by the database';

// Commands as the api appends them: parsed by the domain's schema, defaults filled in.
const createTimeline = (timelineId: string): TimelineCommand =>
  commandSchema.parse({ type: 'CreateTimeline', commandId: randomUUID(), timelineId, timeline: { title: `Timeline ${timelineId}`, defaultLanguage: 'it' } });
const recordEvent = (timelineId: string, event: Partial<Omit<EventData, 'validTime'>> & { validTime?: string } = {}): TimelineCommand => {
  const { eventId, ...statement } = reportedStatement(1);
  return commandSchema.parse({ type: 'RecordEvent', commandId: randomUUID(), timelineId, eventId, event: { ...statement, ...event } });
};
const reviseEvent = (
  timelineId: string,
  eventId: string,
  changes: Omit<EventChanges, 'validTime'> & { validTime?: string },
  expectedRevision?: number,
): TimelineCommand =>
  commandSchema.parse({ type: 'ReviseEvent', commandId: randomUUID(), timelineId, eventId, changes, reason: 'Corrected from the minutes', expectedRevision });
const retractEvent = (timelineId: string, eventId: string): TimelineCommand =>
  commandSchema.parse({ type: 'RetractEvent', commandId: randomUUID(), timelineId, eventId, reason: 'Never happened' });
const redactActor = (actorId: string): Redact => ({
  type: 'Redact',
  commandId: randomUUID(),
  redactionId: randomUUID(),
  kind: 'actor',
  valueHash: redactionHash(actorId),
  partitions: 1,
});
const eventIdOf = (command: TimelineCommand) => ('eventId' in command ? command.eventId : '');

const kishida = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'Prime minister' };
const japan = { id: 'jp', name: 'Japan', role: 'participant' };

describe('the projection repository', () => {
  let database: MigratedDatabase;
  let projection: ProjectionRepository;
  let timelines: TimelineReadRepository;
  // Each test projects into a partition of its own, so that its offsets and redactions are its own.
  let nextPartition = 0;
  const partition = () => nextPartition++;
  const project = (commands: (TimelineCommand | Redact)[], options: ProjectOptions & { partition: number }) =>
    projectRecords(projection, commands.map(recordOf), options);

  const query = async <T = Record<string, unknown>>(text: string, values: unknown[] = []) => (await database.pool.query(text, values)).rows as T[];
  const decisionOf = async (commandId: string) => (await query('select * from decisions where command_id = $1', [commandId]))[0];
  const offsetOf = async (topicPartition: number) =>
    (await query<{ next_offset: number }>('select next_offset from consumer_offsets where topic = $1 and partition = $2', [TOPIC, topicPartition]))[0]
      ?.next_offset;
  const revisionsOf = (eventId: string) =>
    query<Record<string, unknown> & { actor_keys: string[]; place_keys: string[] }>('select * from event_revisions where event_id = $1 order by revision', [
      eventId,
    ]);

  beforeAll(async () => {
    database = await createMigratedDatabase();
    projection = new ProjectionRepository(database.pool);
    timelines = new TimelineReadRepository(database.pool);
    // As the poison e2e test does: a constraint that makes the database refuse one event's row.
    await database.pool.query(`alter table events add constraint test_refused_title check (state->>'title' <> '${REFUSED_TITLE}')`);
  });
  afterAll(() => database?.drop());

  test('TimelineCreated: a timeline row at version 1 with no events, an accepted decision, an outbox row, and the offset past the batch', async () => {
    const at = partition();
    const created = createTimeline('created-timeline');
    await project([created], { partition: at, timestamp: T1 });

    expect(await query('select * from timelines where timeline_id = $1', ['created-timeline'])).toEqual([
      {
        timeline_id: 'created-timeline',
        title: 'Timeline created-timeline',
        description: '',
        default_language: 'it',
        version: 1,
        event_count: 0,
        created_at: new Date(T1),
        updated_at: new Date(T1),
      },
    ]);
    expect(await decisionOf(created.commandId)).toMatchObject({
      command_type: 'CreateTimeline',
      timeline_id: 'created-timeline',
      event_id: null,
      outcome: 'accepted',
      reason: null,
      version: 1,
      revision: null,
      changed: true,
      topic_partition: at,
      topic_offset: 0,
      known_at: new Date(T1),
    });
    const outbox = await query('select * from outbox where command_id = $1', [created.commandId]);
    expect(outbox).toEqual([
      expect.objectContaining({ timeline_id: 'created-timeline', change_type: 'TimelineCreated', change_index: 0, known_at: new Date(T1), sent_at: null }),
    ]);
    expect(outbox[0].payload).toMatchObject({
      type: 'TimelineCreated',
      commandId: created.commandId,
      timelineId: 'created-timeline',
      version: 1,
      knownAt: iso(T1),
    });
    expect(await offsetOf(at)).toBe(1);
    expect(await timelines.findTimeline('created-timeline')).toMatchObject({ eventCount: 0, validTime: null });
  });

  test('EventRecorded: the current row with its valid-time text, precision and bounds, a first revision current from its known time, and the count up', async () => {
    const at = partition();
    const recorded = recordEvent('recorded-timeline', {
      title: 'Vertice NATO di Madrid',
      validTime: '2022-06-28/2022-06-30',
      actors: [japan, kishida],
      places: [{ name: 'Madrid', country: 'ES' }],
      topics: ['nato', 'security'],
    });
    await project([createTimeline('recorded-timeline'), recorded], { partition: at, timestamp: T1 });

    const [row] = await query('select * from events where event_id = $1', [eventIdOf(recorded)]);
    expect(row).toMatchObject({
      timeline_id: 'recorded-timeline',
      revision: 1,
      kind: 'statement.reported',
      language: 'it',
      factuality: 'reported',
      valid_time: '2022-06-28/2022-06-30',
      valid_precision: 'day',
      valid_lower: '2022-06-28',
      valid_upper: '2022-07-01',
      retracted: false,
      recorded_at: new Date(T1),
      revised_at: new Date(T1),
    });
    expect(row.state).toMatchObject({ eventId: eventIdOf(recorded), title: 'Vertice NATO di Madrid', validTime: '2022-06-28/2022-06-30', revision: 1 });

    const [revision] = await revisionsOf(eventIdOf(recorded));
    expect(revision).toMatchObject({
      revision: 1,
      change_type: 'EventRecorded',
      command_id: recorded.commandId,
      reason: null,
      changed: {},
      previous: {},
      known_from: new Date(T1),
      known_to: null,
      valid_lower: '2022-06-28',
      valid_upper: '2022-07-01',
      retracted: false,
      topics: ['nato', 'security'],
    });
    expect([...revision.actor_keys].sort()).toEqual(['fumio-kishida', 'fumio-kishida#prime minister', 'jp', 'jp#participant']);
    expect([...revision.place_keys].sort()).toEqual(['country:es', 'madrid']);
    const walked = await query('select actor_key from event_revision_actor_keys where event_id = $1 order by actor_key', [eventIdOf(recorded)]);
    expect(walked.map((key) => key.actor_key)).toEqual(['fumio-kishida', 'fumio-kishida#prime minister', 'jp', 'jp#participant']);

    expect(await decisionOf(recorded.commandId)).toMatchObject({
      outcome: 'accepted',
      event_id: eventIdOf(recorded),
      version: 2,
      revision: 1,
      topic_offset: 1,
    });
    expect(await timelines.findTimeline('recorded-timeline')).toMatchObject({
      version: 2,
      eventCount: 1,
      updatedAt: iso(T1),
      validTime: { earliest: '2022-06-28', latest: '2022-06-30' },
    });
    const outbox = await query('select change_type, change_index, payload from outbox where command_id = $1', [recorded.commandId]);
    expect(outbox).toEqual([
      { change_type: 'EventRecorded', change_index: 0, payload: expect.objectContaining({ eventId: eventIdOf(recorded), revision: 1 }) },
    ]);
  });

  test('EventRevised in a later batch: the earlier revision is closed at its known time, the new one carries the changed and previous fields', async () => {
    const at = partition();
    const recorded = recordEvent('revised-timeline', { validTime: '2023', factuality: 'reported' });
    await project([createTimeline('revised-timeline'), recorded], { partition: at, timestamp: T1 });
    const revised = reviseEvent('revised-timeline', eventIdOf(recorded), { validTime: '2023-07', factuality: 'confirmed' }, 1);
    await project([revised], { partition: at, timestamp: T2 });

    const [first, second] = await revisionsOf(eventIdOf(recorded));
    expect(first).toMatchObject({ revision: 1, known_from: new Date(T1), known_to: new Date(T2), valid_lower: '2023-01-01', valid_upper: '2024-01-01' });
    expect(second).toMatchObject({
      revision: 2,
      change_type: 'EventRevised',
      command_id: revised.commandId,
      reason: 'Corrected from the minutes',
      changed: { validTime: '2023-07', factuality: 'confirmed' },
      previous: { validTime: '2023', factuality: 'reported' },
      known_from: new Date(T2),
      known_to: null,
      factuality: 'confirmed',
      valid_lower: '2023-07-01',
      valid_upper: '2023-08-01',
    });
    expect(
      await query('select revision, valid_time, valid_precision, valid_lower, factuality, recorded_at, revised_at from events where event_id = $1', [
        eventIdOf(recorded),
      ]),
    ).toEqual([
      {
        revision: 2,
        valid_time: '2023-07',
        valid_precision: 'month',
        valid_lower: '2023-07-01',
        factuality: 'confirmed',
        recorded_at: new Date(T1),
        revised_at: new Date(T2),
      },
    ]);
    expect(await decisionOf(revised.commandId)).toMatchObject({ outcome: 'accepted', version: 3, revision: 2, known_at: new Date(T2) });
    expect(await timelines.findTimeline('revised-timeline')).toMatchObject({
      version: 3,
      eventCount: 1,
      validTime: { earliest: '2023-07-01', latest: '2023-07-31' },
    });
    expect(await offsetOf(at)).toBe(3);
  });

  test('revisions of one event in one batch: each is closed by the next, only the last is open, and only the last is the current row', async () => {
    const at = partition();
    const recorded = recordEvent('one-batch-timeline', { title: 'Prima' });
    const revisions = ['Seconda', 'Terza'].map((title) => reviseEvent('one-batch-timeline', eventIdOf(recorded), { title }));
    await project([createTimeline('one-batch-timeline'), recorded, ...revisions], { partition: at, timestamp: T1 });

    const rows = await revisionsOf(eventIdOf(recorded));
    expect(rows.map((row) => [row.revision, (row.state as EventData).title, row.known_from, row.known_to])).toEqual([
      [1, 'Prima', new Date(T1), new Date(T1)],
      [2, 'Seconda', new Date(T1), new Date(T1)],
      [3, 'Terza', new Date(T1), null],
    ]);
    expect(await query('select revision, state->>$2 as title from events where event_id = $1', [eventIdOf(recorded), 'title'])).toEqual([
      { revision: 3, title: 'Terza' },
    ]);
    expect(
      await query('select change_type, change_index from outbox o join decisions d using (command_id) where d.topic_partition = $1 order by o.position', [at]),
    ).toEqual([
      { change_type: 'TimelineCreated', change_index: 0 },
      { change_type: 'EventRecorded', change_index: 0 },
      { change_type: 'EventRevised', change_index: 0 },
      { change_type: 'EventRevised', change_index: 0 },
    ]);
  });

  test('EventRetracted: the event stays, retracted with its reason; its last revision is closed; the count and the bounds leave it out', async () => {
    const at = partition();
    const kept = recordEvent('retracted-timeline', { validTime: '2022' });
    const retracted = recordEvent('retracted-timeline', { validTime: '2024-03-15' });
    await project([createTimeline('retracted-timeline'), kept, retracted], { partition: at, timestamp: T1 });
    expect(await timelines.findTimeline('retracted-timeline')).toMatchObject({ eventCount: 2, validTime: { earliest: '2022-01-01', latest: '2024-03-15' } });

    const retraction = retractEvent('retracted-timeline', eventIdOf(retracted));
    await project([retraction], { partition: at, timestamp: T2 });

    const [row] = await query('select retracted, revision, state from events where event_id = $1', [eventIdOf(retracted)]);
    expect(row).toMatchObject({ retracted: true, revision: 2, state: expect.objectContaining({ retracted: true, retractionReason: 'Never happened' }) });
    expect((await revisionsOf(eventIdOf(retracted))).map((r) => [r.revision, r.change_type, r.reason, r.retracted, r.known_from, r.known_to])).toEqual([
      [1, 'EventRecorded', null, false, new Date(T1), new Date(T2)],
      [2, 'EventRetracted', 'Never happened', true, new Date(T2), null],
    ]);
    expect(await timelines.findTimeline('retracted-timeline')).toMatchObject({
      version: 4,
      eventCount: 1,
      validTime: { earliest: '2022-01-01', latest: '2022-12-31' },
    });
    expect(await decisionOf(retraction.commandId)).toMatchObject({ outcome: 'accepted', version: 4, revision: 2 });
  });

  describe('RedactionApplied', () => {
    const eventIds = { madrid: '', vilnius: '', other: '', elsewhere: '' };
    let redaction: Redact;
    let at: number;
    let elsewhere: number;

    beforeAll(async () => {
      at = partition();
      elsewhere = partition();
      // The actor in a first revision, and added by a revision (in its changed fields) of another event on another timeline.
      const madrid = recordEvent('redacted-a', {
        title: 'Madrid',
        actors: [japan, kishida],
        sources: [{ url: 'https://example.org/madrid', publisher: 'Example', language: 'it' }],
      });
      const vilnius = recordEvent('redacted-b', { title: 'Vilnius', actors: [japan] });
      const other = recordEvent('redacted-b', { title: 'Altro', actors: [japan] });
      const onElsewhere = recordEvent('redacted-elsewhere', { title: 'Altrove', actors: [kishida] });
      Object.assign(eventIds, { madrid: eventIdOf(madrid), vilnius: eventIdOf(vilnius), other: eventIdOf(other), elsewhere: eventIdOf(onElsewhere) });
      await project([createTimeline('redacted-a'), createTimeline('redacted-b'), madrid, vilnius, other], { partition: at, timestamp: T1 });
      await project([reviseEvent('redacted-b', eventIds.vilnius, { actors: [japan, kishida] })], { partition: at, timestamp: T2 });
      await project([createTimeline('redacted-elsewhere'), onElsewhere], { partition: elsewhere, timestamp: T1 });

      redaction = redactActor(kishida.id);
      await project([redaction], { partition: at, timestamp: T3 });
    });

    test("every stored revision's state, changed and previous fields, and actor keys lose the actor; revisions and their known times stay", async () => {
      const revisions = await query<{
        event_id: string;
        revision: number;
        state: EventData;
        changed: Partial<EventData>;
        previous: Partial<EventData>;
        actor_keys: string[];
        known_to: Date | null;
      }>('select * from event_revisions where event_id = any($1::uuid[]) order by event_id, revision', [[eventIds.madrid, eventIds.vilnius]]);
      expect(revisions).toHaveLength(3);
      for (const revision of revisions) {
        expect(JSON.stringify([revision.state, revision.changed, revision.previous])).not.toContain(kishida.id);
        expect([...revision.actor_keys].sort()).toEqual(['jp', 'jp#participant']);
      }
      const vilnius = revisions.filter((revision) => revision.event_id === eventIds.vilnius);
      expect(vilnius.map((revision) => [revision.revision, revision.changed, revision.known_to])).toEqual([
        [1, {}, new Date(T2)],
        [2, { actors: [japan] }, null],
      ]);
      // The source of the redacted event is not the value redacted: it stays.
      expect(revisions.find((revision) => revision.event_id === eventIds.madrid)!.state.sources).toEqual([
        { url: 'https://example.org/madrid', publisher: 'Example', language: 'it' },
      ]);
      const walked = await query('select distinct actor_key from event_revision_actor_keys where event_id = any($1::uuid[]) order by actor_key', [
        [eventIds.madrid, eventIds.vilnius],
      ]);
      expect(walked.map((key) => key.actor_key)).toEqual(['jp', 'jp#participant']);
    });

    test('the current rows lose the actor, at the same revision', async () => {
      const rows = await query<{ event_id: string; revision: number; state: EventData }>(
        'select event_id, revision, state from events where event_id = any($1::uuid[]) order by revision',
        [[eventIds.madrid, eventIds.vilnius]],
      );
      expect(rows.map((row) => [row.event_id, row.revision, row.state.actors])).toEqual(
        expect.arrayContaining([
          [eventIds.madrid, 1, [japan]],
          [eventIds.vilnius, 2, [japan]],
        ]),
      );
    });

    test('outbox payloads lose the actor, sent or not; one RedactionApplied per timeline that had the actor, with its events', async () => {
      const payloads = await query<{ payload: unknown }>(
        `select payload from outbox o join decisions d using (command_id) where d.topic_partition = $1 and o.change_type <> 'RedactionApplied'`,
        [at],
      );
      expect(payloads.length).toBeGreaterThan(0);
      expect(JSON.stringify(payloads)).not.toContain(kishida.id);
      expect(await query('select timeline_id, change_type, payload from outbox where command_id = $1 order by change_index', [redaction.commandId])).toEqual([
        {
          timeline_id: 'redacted-a',
          change_type: 'RedactionApplied',
          payload: expect.objectContaining({
            redactionId: redaction.redactionId,
            kind: 'actor',
            valueHash: redaction.valueHash,
            eventIds: [eventIds.madrid],
            version: 3,
          }),
        },
        {
          timeline_id: 'redacted-b',
          change_type: 'RedactionApplied',
          payload: expect.objectContaining({ eventIds: [eventIds.vilnius], version: 5 }),
        },
      ]);
    });

    test("the redaction's record, its accepted decision and the timelines' versions; an event without the actor is untouched", async () => {
      expect(await query('select * from redactions where redaction_id = $1', [redaction.redactionId])).toEqual([
        expect.objectContaining({
          topic_partition: at,
          kind: 'actor',
          value_hash: redaction.valueHash,
          partitions: 1,
          command_id: redaction.commandId,
          events_rewritten: 2,
          known_at: new Date(T3),
        }),
      ]);
      expect(await decisionOf(redaction.commandId)).toMatchObject({
        command_type: 'Redact',
        outcome: 'accepted',
        changed: true,
        timeline_id: null,
        topic_offset: 6,
      });
      expect(await query(`select timeline_id, version, event_count from timelines where timeline_id like 'redacted-%' order by timeline_id`)).toEqual([
        { timeline_id: 'redacted-a', version: 3, event_count: 1 },
        { timeline_id: 'redacted-b', version: 5, event_count: 2 },
        { timeline_id: 'redacted-elsewhere', version: 2, event_count: 1 },
      ]);
      expect(await query('select revision, state->$2 as actors from event_revisions where event_id = $1', [eventIds.other, 'actors'])).toEqual([
        { revision: 1, actors: [japan] },
      ]);
    });

    test("another partition's rows keep the actor until that partition decides its own record of the redaction", async () => {
      expect((await query('select state from events where event_id = $1', [eventIds.elsewhere]))[0].state).toMatchObject({ actors: [kishida] });
    });

    test('a later command of the partition that names the actor is stored without it', async () => {
      const later = recordEvent('redacted-a', { title: 'Dopo', actors: [kishida, japan] });
      await project([later], { partition: at, timestamp: T3 + 1 });
      const [revision] = await revisionsOf(eventIdOf(later));
      expect(revision.state).toMatchObject({ actors: [japan] });
      expect(revision.actor_keys).toEqual(['jp', 'jp#participant']);
    });
  });

  test('a batch with refused records: malformed and rejected ones get their decisions and change nothing, the accepted ones are written, the offset passes them all', async () => {
    const at = partition();
    const created = createTimeline('refusals-timeline');
    const recorded = recordEvent('refusals-timeline');
    const orphan = recordEvent('no-such-timeline');
    const stale = reviseEvent('refusals-timeline', eventIdOf(recorded), { factuality: 'confirmed' }, 7);
    const claimedId = randomUUID();
    const records = [
      recordOf(created),
      { value: 'not JSON at all', headers: {} },
      recordOf(recorded),
      { value: JSON.stringify({ type: 'RecordEvent', commandId: claimedId, timelineId: 'refusals-timeline', event: 'not an event' }), headers: {} },
      recordOf(orphan),
      recordOf(stale),
      { value: null, headers: {} },
      // A command decided already, in this very batch: it changes nothing and gets no second decision.
      recordOf(recorded),
    ];
    await projectRecords(projection, records, { partition: at, timestamp: T1 });

    const decisions = await query(
      'select command_id, command_type, timeline_id, outcome, reason, topic_offset from decisions where topic_partition = $1 order by topic_offset',
      [at],
    );
    expect(decisions.map((d) => [d.topic_offset, d.command_type, d.outcome, d.reason])).toEqual([
      [0, 'CreateTimeline', 'accepted', null],
      [1, 'unknown', 'rejected', 'malformed'],
      [2, 'RecordEvent', 'accepted', null],
      [3, 'RecordEvent', 'rejected', 'malformed'],
      [4, 'RecordEvent', 'rejected', 'timeline_not_found'],
      [5, 'ReviseEvent', 'rejected', 'revision_conflict'],
      [6, 'unknown', 'rejected', 'malformed'],
    ]);
    // A malformed record's decision is found under the command id it names.
    expect(decisions[3]).toMatchObject({ command_id: claimedId, timeline_id: 'refusals-timeline' });
    expect((await decisionOf(claimedId)).detail).toMatch(/^eventId: /);
    expect(await query('select revision, factuality from event_revisions where event_id = $1', [eventIdOf(recorded)])).toEqual([
      { revision: 1, factuality: 'reported' },
    ]);
    expect(await query(`select count(*)::int as n from events where timeline_id = 'no-such-timeline'`)).toEqual([{ n: 0 }]);
    expect(await query('select command_id from outbox o join decisions d using (command_id) where d.topic_partition = $1 order by o.position', [at])).toEqual([
      { command_id: created.commandId },
      { command_id: recorded.commandId },
    ]);
    expect(await timelines.findTimeline('refusals-timeline')).toMatchObject({ version: 2, eventCount: 1 });
    expect(await offsetOf(at)).toBe(records.length);
  });

  test('a record the database refuses fails its whole batch and writes nothing; decided alone as unprocessable, only its decision is written', async () => {
    const at = partition();
    await project([createTimeline('refused-timeline')], { partition: at, timestamp: T1 });
    const good = recordEvent('refused-timeline', { title: 'Accettato' });
    const refused = recordEvent('refused-timeline', { title: REFUSED_TITLE });

    const failure = await project([good, refused], { partition: at, timestamp: T2 }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: '23514', constraint: 'test_refused_title' });
    expect(await offsetOf(at)).toBe(1);
    expect(await query('select command_id from decisions where command_id = any($1::uuid[])', [[good.commandId, refused.commandId]])).toEqual([]);
    expect(await query('select event_id from event_revisions where event_id = any($1::uuid[])', [[eventIdOf(good), eventIdOf(refused)]])).toEqual([]);

    // What the projector's narrowing then does: the good record alone, the refused one decided unprocessable.
    await project([good], { partition: at, timestamp: T2 });
    await project([refused], { partition: at, timestamp: T2, unprocessable: '23514: violates check constraint "test_refused_title"' });
    expect(await decisionOf(refused.commandId)).toMatchObject({
      command_type: 'RecordEvent',
      timeline_id: 'refused-timeline',
      event_id: eventIdOf(refused),
      outcome: 'rejected',
      reason: 'unprocessable',
      detail: '23514: violates check constraint "test_refused_title"',
      changed: false,
      topic_offset: 2,
    });
    expect(await query('select event_id from events where timeline_id = $1', ['refused-timeline'])).toEqual([{ event_id: eventIdOf(good) }]);
    expect(await query('select count(*)::int as n from outbox where command_id = $1', [refused.commandId])).toEqual([{ n: 0 }]);
    expect(await timelines.findTimeline('refused-timeline')).toMatchObject({ version: 2, eventCount: 1 });
    expect(await offsetOf(at)).toBe(3);
  });

  test('the offset compare-and-set: a batch that does not start at the stored offset is refused and writes nothing', async () => {
    const at = partition();
    await project([createTimeline('fenced-timeline')], { partition: at, timestamp: T1 });
    const skipping = recordEvent('fenced-timeline', { title: 'Dopo un buco' });

    // Decided as if the records at offsets 1 to 4 had been applied: the stored offset is still 1.
    const { batch } = await decideRecords(projection, [logRecord(recordOf(skipping), at, 5, T2)]);
    expect(await projection.applyBatch(batch)).toEqual({ kind: 'offset-moved', storedOffset: 1 });
    expect(await offsetOf(at)).toBe(1);
    expect(await decisionOf(skipping.commandId)).toBeUndefined();
    expect(await query('select count(*)::int as n from events where timeline_id = $1', ['fenced-timeline'])).toEqual([{ n: 0 }]);
    expect(await query('select count(*)::int as n from outbox where command_id = $1', [skipping.commandId])).toEqual([{ n: 0 }]);
  });

  test("an owner whose batch meets another owner's batch in flight waits for it, then finds the offset moved and writes nothing", async () => {
    const at = partition();
    await project([createTimeline('owners-timeline')], { partition: at, timestamp: T1 });
    const applied = recordEvent('owners-timeline');
    // Both owners decided the same record at offset 1.
    const { batch } = await decideRecords(projection, [logRecord(recordOf(applied), at, 1, T2)]);
    const first = await database.pool.connect();
    try {
      await first.query('begin');
      expect(await projection.applyBatch(batch, first)).toEqual({ kind: 'applied' });
      const second = projection.applyBatch(batch);
      // The second owner is blocked on the first one's row lock, not done.
      await expectEventually(async () =>
        expect(await query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).toEqual([
          { n: 1 },
        ]),
      );
      await first.query('commit');
      expect(await second).toEqual({ kind: 'offset-moved', storedOffset: 2 });
    } finally {
      await first.query('rollback').catch(() => undefined);
      first.release();
    }
    expect(await query('select topic_offset from decisions where command_id = $1', [applied.commandId])).toEqual([{ topic_offset: 1 }]);
    expect(await query('select count(*)::int as n from event_revisions where event_id = $1', [eventIdOf(applied)])).toEqual([{ n: 1 }]);
    expect(await offsetOf(at)).toBe(2);
  });

  test('a batch decided on rows that no longer say what it assumed is refused and writes nothing: a timeline, an event, a command decided', async () => {
    const at = partition();
    const created = createTimeline('assumed-timeline');
    const recorded = recordEvent('assumed-timeline');
    await project([created, recorded], { partition: at, timestamp: T1 });
    const revision = reviseEvent('assumed-timeline', eventIdOf(recorded), { title: 'Rivisto' });
    const { batch } = await decideRecords(projection, [logRecord(recordOf(revision), at, 2, T2)]);
    const { decidedOn } = batch;
    expect(decidedOn).toEqual({
      undecided: [revision.commandId],
      timelines: [{ timelineId: 'assumed-timeline', version: 2 }],
      events: [{ eventId: eventIdOf(recorded), revision: 1 }],
    });

    const refused = [
      { ...decidedOn, timelines: [{ timelineId: 'assumed-timeline', version: 1 }] },
      { ...decidedOn, timelines: [{ timelineId: 'assumed-timeline', version: null }] },
      { ...decidedOn, events: [{ eventId: eventIdOf(recorded), revision: null }] },
      { ...decidedOn, events: [{ eventId: eventIdOf(recorded), revision: 2 }] },
      { ...decidedOn, undecided: [revision.commandId, created.commandId] },
    ];
    for (const assumed of refused) expect(await projection.applyBatch({ ...batch, decidedOn: assumed })).toEqual({ kind: 'state-changed' });
    expect(await offsetOf(at)).toBe(2);
    expect(await decisionOf(revision.commandId)).toBeUndefined();
    expect(await revisionsOf(eventIdOf(recorded))).toHaveLength(1);

    expect(await projection.applyBatch(batch)).toEqual({ kind: 'applied' });
    expect(await revisionsOf(eventIdOf(recorded))).toHaveLength(2);
  });

  test('the notification: each decision with the state of the revision or the timeline it made, in payloads under 8000 bytes; one too large goes as its id', async () => {
    const at = partition();
    const listener = await database.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query(`listen ${DECISIONS_CHANNEL}`);
    try {
      const created = createTimeline('notified-timeline');
      const recorded = Array.from({ length: 8 }, (_, n) => recordEvent('notified-timeline', { title: `Evento ${n}`, summary: 'x'.repeat(1_500) }));
      const large = recordEvent('notified-timeline', { title: 'Troppo lungo', summary: 'y'.repeat(9_000) });
      const unknownEvent = reviseEvent('notified-timeline', randomUUID(), { title: 'Nessuno' });
      const commands = [created, ...recorded, large, unknownEvent];
      await project(commands, { partition: at, timestamp: T1 });
      await expectEventually(() => expect(payloads.flatMap((payload) => parseNotification(payload).commandIds)).toHaveLength(commands.length));

      expect(payloads.length).toBeGreaterThan(1);
      for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThan(8_000);
      const notified = payloads.map(parseNotification);
      expect(notified.flatMap(({ commandIds }) => commandIds)).toEqual(commands.map((command) => command.commandId));
      const carried = new Map(notified.flatMap(({ carried }) => carried).map((decision) => [decision.commandId, decision]));
      expect(carried.has(large.commandId)).toBe(false);
      expect(carried.get(created.commandId)).toMatchObject({
        outcome: 'accepted',
        version: 1,
        event: null,
        timeline: { title: 'Timeline notified-timeline', description: '', defaultLanguage: 'it', createdAt: iso(T1) },
      });
      for (const command of recorded) {
        const [stored] = await query<{ state: unknown }>('select state from event_revisions where event_id = $1 and revision = 1', [eventIdOf(command)]);
        expect(carried.get(command.commandId)).toMatchObject({ outcome: 'accepted', revision: 1, timeline: null, event: stored.state });
      }
      expect(carried.get(unknownEvent.commandId)).toMatchObject({ outcome: 'rejected', reason: 'event_not_found', event: null, timeline: null });
    } finally {
      await listener.query(`unlisten ${DECISIONS_CHANNEL}`);
      listener.release();
    }
  });

  test("a rebuild's replay notifies no one: its batches are applied in full, and only a usual batch after them wakes the listener", async () => {
    const at = partition();
    const listener = await database.pool.connect();
    const payloads: string[] = [];
    listener.on('notification', (message) => payloads.push(message.payload ?? ''));
    await listener.query(`listen ${DECISIONS_CHANNEL}`);
    try {
      const replayed = [createTimeline('replayed-timeline'), recordEvent('replayed-timeline')];
      await projectRecords(ProjectionRepository.forReplay(database.pool), replayed.map(recordOf), { partition: at, timestamp: T1 });
      expect((await decisionOf(replayed[1].commandId)).outcome).toBe('accepted');
      const live = recordEvent('replayed-timeline');
      await project([live], { partition: at, timestamp: T2 });
      // Notices are delivered in commit order: once the usual batch's has come, the replay's would have come before it.
      await expectEventually(() => expect(payloads).toHaveLength(1));
      expect(parseNotification(payloads[0]).commandIds).toEqual([live.commandId]);
    } finally {
      await listener.query(`unlisten ${DECISIONS_CHANNEL}`);
      listener.release();
    }
  });

  test("a partition's failure is recorded once per partition, updated by each attempt, and cleared", async () => {
    const failure = { partition: 41, failureClass: 'connection', error: 'connect ECONNREFUSED', since: iso(T1), attempts: 1 };
    await projection.recordPartitionFailure(TOPIC, failure);
    await projection.recordPartitionFailure(TOPIC, { ...failure, failureClass: 'timeout', error: 'statement timeout', attempts: 2 });
    expect(await query('select partition, failure_class, error, since, attempts from partition_failures where topic = $1', [TOPIC])).toEqual([
      { partition: 41, failure_class: 'timeout', error: 'statement timeout', since: new Date(T1), attempts: 2 },
    ]);
    await projection.clearPartitionFailure(TOPIC, 41);
    expect(await query('select * from partition_failures where topic = $1', [TOPIC])).toEqual([]);
  });
});
