import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { commandSchema, type TimelineCommand } from '@timeline/domain';
import { Pool } from 'pg';
import { generateDecisionsAndOutbox, generateReadModel } from '../../../scripts/bench/read-model';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { projectCommands } from '../../../test/support/projected-commands';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { DecisionRepository } from './decision.repository';
import { EventQueryRepository, type EventQuery } from './event-query.repository';
import { OperationsRepository } from './operations.repository';
import { OpsStatusRepository } from './ops-status.repository';
import { OutboxRepository } from './outbox.repository';
import { quoteIdentifier } from './migrations';
import { ProjectionRepository } from './projection.repository';
import { RedactionRepository } from './redaction.repository';
import { TimelineReadRepository } from './timeline-read.repository';

/**
 * Every index of the schema and the query that needs it (docs/benchmarks.md, "Issue 20, changes 3 and 7"): each
 * statement the code issues runs through its repository on a read model of realistic size, auto_explain sends the
 * plan of every statement (those inside apply_batch too) to this client, and the test asserts which indexes they
 * read. An index that no query reads fails the last test: drop it, or name the query it is for.
 */
const EVENTS = 100_000;
const TIMELINES = 300;
const TIMELINE = 'bench-q-17';
const TOPIC = 'timeline.commands';

/** What a plan reads: the indexes it scans or checks conflicts on, and the tables it scans whole. */
interface PlanReads {
  indexes: Set<string>;
  seqScans: Set<string>;
}

interface PlanNode {
  'Node Type'?: string;
  'Index Name'?: string;
  'Relation Name'?: string;
  'Conflict Arbiter Indexes'?: string[];
  Plans?: PlanNode[];
}

function collect(node: PlanNode, reads: PlanReads): void {
  if (node['Index Name']) reads.indexes.add(node['Index Name']);
  for (const arbiter of node['Conflict Arbiter Indexes'] ?? []) reads.indexes.add(arbiter);
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) reads.seqScans.add(node['Relation Name']);
  for (const child of node.Plans ?? []) collect(child, reads);
}

/**
 * A pool of one connection whose every statement's plan (nested ones included) comes back as a notice: auto_explain,
 * loaded when the session starts (the test's user is a superuser).
 */
function explainingPool(url: string, schema: string): { pool: Pool; plansOf: (run: () => Promise<unknown>) => Promise<PlanReads> } {
  const settings = {
    search_path: quoteIdentifier(schema),
    session_preload_libraries: 'auto_explain',
    'auto_explain.log_min_duration': '0',
    'auto_explain.log_format': 'json',
    'auto_explain.log_nested_statements': 'on',
    'auto_explain.log_level': 'notice',
  };
  const options = Object.entries(settings)
    .map(([name, value]) => `-c ${name}=${value}`)
    .join(' ');
  const pool = new Pool({ connectionString: url, max: 1, options });
  let plans: string[] = [];
  pool.on('connect', (client) => client.on('notice', (notice) => plans.push(notice.message ?? '')));
  return {
    pool,
    plansOf: async (run) => {
      plans = [];
      await run();
      const reads: PlanReads = { indexes: new Set(), seqScans: new Set() };
      for (const message of plans) {
        const json = message.indexOf('{');
        if (json < 0) throw new Error(message);
        collect((JSON.parse(message.slice(json)) as { Plan: PlanNode }).Plan, reads);
      }
      return reads;
    },
  };
}

const createTimeline = (timelineId: string): TimelineCommand =>
  commandSchema.parse({ type: 'CreateTimeline', commandId: randomUUID(), timelineId, timeline: { title: timelineId, defaultLanguage: 'it' } });
const recordEvent = (timelineId: string, eventId: string): TimelineCommand =>
  commandSchema.parse({
    type: 'RecordEvent',
    commandId: randomUUID(),
    timelineId,
    eventId,
    event: {
      kind: 'summit.attended',
      title: 'Vertice di prova',
      language: 'it',
      validTime: '2023-07-12',
      factuality: 'reported',
      actors: [{ id: 'actor-42', name: 'Actor 42', role: 'party' }],
      topics: ['topic-7'],
    },
  });
const reviseEvent = (timelineId: string, eventId: string): TimelineCommand =>
  commandSchema.parse({
    type: 'ReviseEvent',
    commandId: randomUUID(),
    timelineId,
    eventId,
    changes: { factuality: 'confirmed' },
    reason: 'Confirmed',
  });

describe('index inventory: every index is read by a query the code issues', () => {
  let database: MigratedDatabase;
  let explaining: ReturnType<typeof explainingPool>;
  let events: EventQueryRepository;
  let timelines: TimelineReadRepository;
  let decisions: DecisionRepository;
  let outbox: OutboxRepository;
  let opsStatus: OpsStatusRepository;
  let operations: OperationsRepository;
  let projection: ProjectionRepository;
  let redactions: RedactionRepository;
  const used = new Set<string>();

  async function reads(run: () => Promise<unknown>): Promise<PlanReads> {
    const found = await explaining.plansOf(run);
    for (const index of found.indexes) used.add(index);
    return found;
  }
  const page = (query: Partial<EventQuery>) => () => events.findEvents({ order: 'asc', limit: 51, ...query });

  beforeAll(async () => {
    database = await createMigratedDatabase();
    await generateReadModel(database.pool, EVENTS, TIMELINES);
    await generateDecisionsAndOutbox(database.pool, { topic: TOPIC, partitions: 3, unsent: 200 });
    // A service that has run for years has had redactions: a thousand partitions' records of them.
    await database.pool.query(
      `insert into redactions (redaction_id, topic_partition, kind, value_hash, partitions, command_id, events_rewritten, known_at)
       select md5('redaction-' || n / 3)::uuid, n % 3, 'actor', encode(sha256(convert_to('actor-' || n / 3, 'UTF8')), 'hex'), 3,
              md5('redact-' || n / 3)::uuid, 0, now() - (1000 - n) * interval '1 hour'
       from generate_series(0, 999) as n;
       analyze redactions`,
    );
    explaining = explainingPool(database.url, database.schema);
    const offsets = new ConsumerOffsetsRepository(explaining.pool);
    events = new EventQueryRepository(explaining.pool);
    timelines = new TimelineReadRepository(explaining.pool);
    decisions = new DecisionRepository(explaining.pool);
    outbox = new OutboxRepository(explaining.pool);
    opsStatus = new OpsStatusRepository(explaining.pool, offsets);
    operations = new OperationsRepository(explaining.pool, offsets);
    projection = new ProjectionRepository(explaining.pool);
    redactions = new RedactionRepository(explaining.pool);
  }, 300_000);
  afterAll(async () => {
    await explaining?.pool.end();
    await database?.drop();
  });

  describe('timeline and event queries (the query routes)', () => {
    test.each<[string, Partial<EventQuery>, string[]]>([
      ['first page of a timeline', { timelineId: TIMELINE }, ['event_revisions_by_timeline_valid_time']],
      [
        'a later page of a timeline',
        { timelineId: TIMELINE, after: { validLower: '1900-01-01', eventId: randomUUID() } },
        ['event_revisions_by_timeline_valid_time'],
      ],
      [
        'a timeline as known at a past moment',
        { timelineId: TIMELINE, knownAt: new Date(Date.now() - 180 * 86_400_000).toISOString() },
        ['event_revisions_by_timeline_valid_time'],
      ],
      ['newest first', { timelineId: TIMELINE, order: 'desc' }, ['event_revisions_by_timeline_valid_time']],
      ['q in a timeline', { timelineId: TIMELINE, text: 'collegamento' }, ['event_revisions_by_timeline_text']],
      ['q across timelines', { text: 'collegamento' }, ['event_revisions_by_timeline_text']],
      ['one actor across timelines', { actors: ['actor-42'] }, ['event_revision_actor_keys_pkey', 'event_revisions_pkey']],
      ['one actor in a role across timelines', { actors: ['actor-42'], role: 'party' }, ['event_revision_actor_keys_pkey', 'event_revisions_pkey']],
      ['several actors across timelines', { actors: ['actor-42', 'actor-43'] }, ['event_revision_actor_keys_pkey', 'event_revisions_pkey']],
      ['an actor in a timeline', { timelineId: TIMELINE, actors: ['actor-16'] }, ['event_revision_actor_keys_pkey']],
      ['a place across timelines', { places: ['place-7'] }, ['event_revisions_by_place']],
      ['a topic across timelines', { topics: ['topic-7'] }, ['event_revisions_by_topic']],
      ['every timeline, no filter', {}, ['event_revisions_by_valid_time']],
    ])('%s', async (_name, query, expected) => {
      const found = await reads(page(query));
      expect([...found.indexes]).toEqual(expect.arrayContaining(expected));
      expect([...found.seqScans]).not.toContain('event_revisions');
    });

    // Two indexes lead with timeline_id and the histogram needs no order: for a timeline of ~370 revisions their
    // costs are within a few percent, and ANALYZE's random sample of timeline_id decides (about 1 in 40 samples
    // over-counts this timeline and the GIN wins). Either is a plan of the timeline's rows alone.
    test('histogram of a timeline', async () => {
      const found = await reads(() => events.histogram({ timelineId: TIMELINE, knownAt: new Date().toISOString() }, 'year'));
      expect([...found.indexes].filter((index) => ['event_revisions_by_timeline_valid_time', 'event_revisions_by_timeline_text'].includes(index))).toHaveLength(
        1,
      );
      expect([...found.seqScans]).not.toContain('event_revisions');
    });

    test('a timeline with its valid-time bounds, and the list of timelines', async () => {
      const one = await reads(() => timelines.findTimeline(TIMELINE));
      expect([...one.indexes]).toEqual(expect.arrayContaining(['events_by_timeline_valid_lower', 'events_by_timeline_valid_upper']));
      const list = await reads(() => timelines.listTimelines({ limit: 50 }));
      expect([...list.indexes]).toEqual(expect.arrayContaining(['timelines_pkey', 'events_by_timeline_valid_lower', 'events_by_timeline_valid_upper']));
    });

    test('an event, its timeline and its revisions', async () => {
      const eventId = (await events.findEvents({ timelineId: TIMELINE, order: 'asc', limit: 1 })).events[0].event.eventId;
      expect([...(await reads(() => timelines.findEvent(eventId))).indexes]).toEqual(['events_pkey']);
      expect([...(await reads(() => timelines.findEventTimeline(eventId))).indexes]).toEqual(['events_pkey']);
      expect([...(await reads(() => timelines.listRevisions(eventId))).indexes]).toEqual(['event_revisions_pkey']);
    });
  });

  describe('the write path', () => {
    test('a decision by command id (a write waiting for its answer, an idempotent retry, a command status)', async () => {
      const { rows } = await database.pool.query<{ command_id: string }>(`select command_id from decisions order by known_at desc limit 3`);
      const found = await reads(() => decisions.findByCommandIds(rows.map((row) => row.command_id)));
      expect([...found.indexes]).toEqual(expect.arrayContaining(['decisions_pkey', 'event_revisions_pkey']));
    });

    test("a projector batch: the partition's state, then apply_batch's statements", async () => {
      const eventId = randomUUID();
      const timelineId = 'inventory-timeline';
      const loaded = await reads(() =>
        projection.loadPartitionState(TOPIC, 0, { commandIds: [randomUUID()], timelineIds: [TIMELINE], eventIds: [eventId], redaction: null }),
      );
      expect([...loaded.indexes]).toEqual(expect.arrayContaining(['decisions_pkey', 'events_pkey', 'redactions_by_partition']));
      const created = await reads(() => projectCommands(projection, [createTimeline(timelineId), recordEvent(timelineId, eventId)]));
      // The checks of what the batch was decided on, and the arbiters of the upserts.
      expect([...created.indexes]).toEqual(expect.arrayContaining(['decisions_pkey', 'timelines_pkey', 'events_pkey']));
      const revised = await reads(() => projectCommands(projection, [reviseEvent(timelineId, eventId)]));
      // The revision it replaces gets its known_to by primary key.
      expect([...revised.indexes]).toEqual(expect.arrayContaining(['event_revisions_pkey', 'events_pkey', 'timelines_pkey']));
      expect([...revised.seqScans]).not.toContain('event_revisions');
      expect([...revised.seqScans]).not.toContain('events');
    });
  });

  describe('the outbox: relay and stream', () => {
    test('the relay reads the unsent rows and marks them sent', async () => {
      const unsent = await reads(() => outbox.unsent(100));
      expect([...unsent.indexes]).toEqual(['outbox_unsent']);
      const { rows } = await database.pool.query<{ position: number }>('select position from outbox where sent_at is null order by position limit 5');
      const marked = await reads(() => outbox.markSent(rows.map((row) => row.position)));
      expect([...marked.indexes]).toEqual(['outbox_unsent']);
    });

    test('the stream reads after a position, from the head, and resumes after a token', async () => {
      expect([...(await reads(() => outbox.readAfter(EVENTS / 2, 100, { timelineId: TIMELINE }))).indexes]).toEqual(['outbox_pkey']);
      expect([...(await reads(() => outbox.head())).indexes]).toEqual(['outbox_pkey']);
      expect([...(await reads(() => outbox.resumeAfter(EVENTS / 2))).indexes]).toContain('outbox_pkey');
    });
  });

  describe('the ops page and metrics', () => {
    test('decisions of the last minute and hour, the latest rejections', async () => {
      expect([...(await reads(() => opsStatus.decisionsInLast(60))).indexes]).toEqual(['decisions_by_known_at']);
      expect([...(await reads(() => opsStatus.decisionCounts(3600))).indexes]).toEqual(['decisions_by_known_at']);
      expect([...(await reads(() => opsStatus.recentRejections(20))).indexes]).toEqual(['decisions_rejected_by_known_at']);
    });

    test("each partition's last decided record, and the relay's backlog", async () => {
      const positions = await reads(() => operations.partitionPositions(TOPIC));
      expect([...positions.indexes]).toContain('decisions_topic_partition_topic_offset_key');
      expect([...(await reads(() => operations.relayBacklog())).indexes]).toEqual(['outbox_unsent']);
    });
  });

  test("a redaction's progress", async () => {
    const { rows } = await database.pool.query<{ redaction_id: string }>('select redaction_id from redactions limit 1');
    expect([...(await reads(() => redactions.findById(rows[0].redaction_id))).indexes]).toEqual(['redactions_pkey']);
  });

  test('a failing partition: recorded, shown, cleared', async () => {
    const failure = { partition: 1, failureClass: 'transient', error: 'connection lost', since: new Date().toISOString(), attempts: 1 };
    expect([...(await reads(() => projection.recordPartitionFailure(TOPIC, failure))).indexes]).toEqual(['partition_failures_pkey']);
    await reads(() => opsStatus.failingPartitions(TOPIC));
    await reads(() => projection.clearPartitionFailure(TOPIC, 1));
  });

  test('every index of the schema is read by one of the queries above, or enforces what a write relies on', async () => {
    // Keys a write relies on, which no query reads by (their tables are a row per partition, or one row).
    const ENFORCING: Record<string, string> = {
      consumer_offsets_pkey: "one stored offset per partition: apply_batch's compare-and-set and first insert",
      outbox_head_pkey: 'the single row positions are taken from',
      outbox_command_id_change_index_key: 'a change is in the outbox once: a batch applied twice fails instead of publishing twice',
      schema_migrations_pkey: 'a migration is applied once',
    };
    const { rows } = await database.pool.query<{ indexname: string }>(
      `select indexname from pg_indexes where schemaname = current_schema() order by indexname`,
    );
    const unread = rows.map((row) => row.indexname).filter((index) => !used.has(index) && !(index in ENFORCING));
    expect(unread).toEqual([]);
  });
});
