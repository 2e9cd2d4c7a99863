import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { COMMAND_HEADERS } from '@timeline/command-log';
import { createPool, runMigrations } from '@timeline/database';
import { expectEventually } from './support/eventually';
import { HttpClient } from './support/http-client';
import { rawRequest } from './support/raw-http';
import { CursorSigner } from '../apps/api/src/http/cursor-signer';
import { TestTimelineService } from './support/timeline-service';
import { expectWritesOnEveryPartition } from './support/write-probes';

/** A title the test database is told to refuse (a CHECK constraint): a record the decider accepts and PostgreSQL does not. */
const REFUSED_TITLE = 'refused by the database';

/** An event as a command carries it; the api's body also takes its id (`validEvent`). */
const eventData = () => ({
  kind: 'office.proposed',
  title: 'Ufficio di collegamento NATO a Tokyo',
  summary: 'Proposta di un ufficio di collegamento.',
  language: 'it',
  validTime: '2023-05',
  sources: [{ url: 'https://example.org/nato-tokyo', publisher: 'Example', language: 'it' }],
  factuality: 'reported',
});
const validEvent = () => ({ eventId: randomUUID(), ...eventData() });

const CURSOR_SECRET = 'poison-tests-cursor-secret-of-32-characters';

describe('no request and no record can stop the write path', () => {
  let service: TestTimelineService;
  let projectorHttp: HttpClient;
  let producer: Producer;
  const timelineId = `poison-${randomUUID().slice(0, 8)}`;
  let eventId: string;

  const endOffsetsSum = async () => [...(await service.log.endOffsets(service.config.kafka.commandsTopic)).values()].reduce((a, b) => a + b, 0);
  const commandStatus = async (commandId: string) => (await service.http.get(`/v1/commands/${commandId}`)).body;

  async function startProjector(): Promise<NestFastifyApplication> {
    const projector = await service.startProjectorInProcess();
    await projector.listen(0, '127.0.0.1');
    projectorHttp = new HttpClient(await projector.getUrl());
    return projector;
  }

  /** Records produced straight into timeline.commands, as another writer (or an old version of ours) could. */
  async function produce(records: { value: Buffer | string | null; headers?: Record<string, string | Buffer>; key?: string }[]) {
    await producer.send({
      topic: service.config.kafka.commandsTopic,
      acks: -1,
      messages: records.map((record) => ({ key: record.key ?? timelineId, value: record.value, headers: record.headers ?? {} })),
    });
  }

  beforeAll(async () => {
    service = await TestTimelineService.start({ projector: 'none', env: { DECISION_TIMEOUT_MS: '3000', CURSOR_SECRET: CURSOR_SECRET } });
    await startProjector();
    const kafka = new Kafka({ clientId: `poison-${timelineId}`, brokers: service.config.kafka.brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Veleni', defaultLanguage: 'it' })).status).toBe(201);
    // Two events, so that a first page of one has a cursor to forge from.
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, validEvent());
    expect(recorded.status).toBe(201);
    eventId = recorded.body.event.eventId;
    expect((await service.http.post(`/v1/timelines/${timelineId}/events`, validEvent())).status).toBe(201);
    await service.pool.query(`alter table events add constraint test_refused_title check (state->>'title' <> '${REFUSED_TITLE}')`);
  });

  afterAll(async () => {
    await producer?.disconnect();
    await service?.stop();
  });

  describe('the api refuses what the read models cannot store: 400 naming the field, nothing appended', () => {
    const cases: [string, string, () => unknown, string][] = [
      ['NUL in a title', 'events', () => ({ ...validEvent(), title: 'bad \u0000 title' }), 'body.title'],
      ['NUL in a summary', 'events', () => ({ ...validEvent(), summary: 'a\u0000b' }), 'body.summary'],
      [
        'NUL in a source URL',
        'events',
        () => ({ ...validEvent(), sources: [{ url: 'https://example.org/a\u0000b', publisher: 'X', language: 'it' }] }),
        'body.sources.0.url',
      ],
      ['a lone high surrogate', 'events', () => ({ ...validEvent(), title: 'bad \ud800 title' }), 'body.title'],
      ['a lone low surrogate in a translation', 'events', () => ({ ...validEvent(), translations: { en: { title: '\udc00' } } }), 'body.translations.en.title'],
      ['NUL in an actor name', 'events', () => ({ ...validEvent(), actors: [{ id: 'jp', name: 'Giap\u0000pone', role: 'host' }] }), 'body.actors.0.name'],
      ['valid time in year 0000', 'events', () => ({ ...validEvent(), validTime: '0000' }), 'body.validTime'],
      ['a valid-time range from year 0000', 'events', () => ({ ...validEvent(), validTime: '0000-12/2022' }), 'body.validTime'],
      ['NUL in a revision reason', 'revision', () => ({ changes: { factuality: 'confirmed' }, reason: 'r\u0000' }), 'body.reason'],
      ['a lone surrogate in a revised summary', 'revision', () => ({ changes: { summary: '\ud83d' }, reason: 'fix' }), 'body.changes.summary'],
      ['NUL in a retraction reason', 'retraction', () => ({ reason: '\u0000' }), 'body.reason'],
      ['NUL in a timeline description', 'timeline', () => ({ title: 'T', description: '\u0000', defaultLanguage: 'it' }), 'body.description'],
    ];

    test.each(cases)('%s', async (_name, route, body, field) => {
      const before = await endOffsetsSum();
      const path = {
        events: `/v1/timelines/${timelineId}/events`,
        revision: `/v1/events/${eventId}/revisions`,
        retraction: `/v1/events/${eventId}/retraction`,
        timeline: `/v1/timelines/new-${randomUUID().slice(0, 8)}`,
      }[route]!;
      const response = route === 'timeline' ? await service.http.put(path, body()) : await service.http.post(path, body());
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
      expect(await endOffsetsSum()).toBe(before);
    });

    test('a header with a NUL byte is a 400 problem, as is one too long for a request id; nothing is appended', async () => {
      const before = await endOffsetsSum();
      const withNul = await rawRequest(service.http.baseUrl, {
        method: 'POST',
        target: `/v1/timelines/${timelineId}/events`,
        headers: [
          ['content-type', 'application/json'],
          ['idempotency-key', 'a\u0000b'],
        ],
        body: JSON.stringify(validEvent()),
      });
      expect(withNul.status).toBe(400);
      expect(withNul.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(JSON.parse(withNul.body)).toMatchObject({ type: '/problems/invalid-request', status: 400 });

      const oddRequestId = await service.http.get(`/v1/timelines/${timelineId}`, { 'x-request-id': `<script>${'x'.repeat(300)}` });
      expect(oddRequestId.status).toBe(200);
      const unknown = await service.http.get('/v1/timelines/no-such-timeline', { 'x-request-id': '<b>' });
      expect(unknown.body.requestId).toMatch(/^[0-9a-f-]{36}$/);
      const kept = await service.http.get('/v1/timelines/no-such-timeline', { 'x-request-id': 'caller-42' });
      expect(kept.body.requestId).toBe('caller-42');
      expect(await endOffsetsSum()).toBe(before);
    });
  });

  describe('queries answer 400, never 500', () => {
    // Signed with the service's own key, as if it had leaked: the fields are still checked one by one.
    const forged = (cursor: unknown) => new CursorSigner(service.config).sign(cursor);
    // A cursor the service gave out, changed field by field.
    const cases: [string, string, string][] = [
      ['from in year 0000', 'from=0000', 'query.from'],
      ['to in year 0000', 'to=0000-01', 'query.to'],
      ['validAt in year 0000', 'validAt=0000-01-01', 'query.validAt'],
      ['knownAt in year 0000', 'knownAt=0000-01-01T00:00:00Z', 'query.knownAt'],
      ['knownAt on a day that does not exist', 'knownAt=2023-02-30', 'query.knownAt'],
      ['q with NUL', 'q=a%00b', 'query.q'],
      ['place with NUL', 'place=%00', 'query.place'],
      ['role with NUL', 'actor=jp&role=%00', 'query.role'],
    ];
    test.each(cases)('%s', async (_name, query, field) => {
      const response = await service.http.get(`/v1/timelines/${timelineId}/events?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    });

    test('forged cursors: a day PostgreSQL has no date for, a rank no real holds, an id no uuid is, a known time in year 0000', async () => {
      const hashOf = (cursor: string) => (new CursorSigner(service.config).verify(cursor)?.payload as { h: string }).h;
      const first = await service.http.get(`/v1/timelines/${timelineId}/events?limit=1`);
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const h = hashOf(first.body.nextCursor);
      const id = randomUUID();
      for (const cursor of [
        { h, k: '2026-01-01T00:00:00.000Z', a: { validLower: '0000-01-01', eventId: id } },
        { h, k: '2026-01-01T00:00:00.000Z', a: { validLower: '2023-02-30', eventId: id } },
        { h, k: '2026-01-01T00:00:00.000Z', a: { validLower: '2023-01-01', eventId: '-'.repeat(36) } },
        { h, k: '0000-01-01T00:00:00.000Z', a: { validLower: '2023-01-01', eventId: id } },
        { h, k: '2026-01-01T00:00:00.000Z', a: null },
      ]) {
        const response = await service.http.get(`/v1/timelines/${timelineId}/events?limit=1&cursor=${forged(cursor)}`);
        expect({ cursor, status: response.status }).toEqual({ cursor, status: 400 });
      }
      const ranked = await service.http.get(`/v1/timelines/${timelineId}/events?limit=1&q=ufficio`);
      expect(ranked.body.nextCursor).toEqual(expect.any(String));
      const rankedHash = hashOf(ranked.body.nextCursor);
      const overflow = forged({ h: rankedHash, k: '2026-01-01T00:00:00.000Z', a: { rank: 1e300, eventId: id } });
      expect((await service.http.get(`/v1/timelines/${timelineId}/events?limit=1&q=ufficio&cursor=${overflow}`)).status).toBe(400);
    });

    test('a cursor the service did not sign is a 400: unsigned, changed by one character, or signed with another key', async () => {
      const first = await service.http.get(`/v1/timelines/${timelineId}/events?limit=1`);
      const cursor: string = first.body.nextCursor;
      const [body, mac] = cursor.split('.');
      const payload = JSON.parse(Buffer.from(body, 'base64url').toString());
      const flip = (text: string, at: number) => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      const otherKey = new CursorSigner(Object.assign(Object.create(service.config), { cursorSecret: 'x'.repeat(32) }));
      const refused = [
        body, // no signature, as cursors were before they were signed
        `${flip(body, 5)}.${mac}`,
        `${body}.${flip(mac, 3)}`,
        otherKey.sign(payload),
        `${body}.${mac}.${mac}`,
      ];
      expect((await service.http.get(`/v1/timelines/${timelineId}/events?limit=1&cursor=${cursor}`)).status).toBe(200);
      for (const text of refused) {
        const response = await service.http.get(`/v1/timelines/${timelineId}/events?limit=1&cursor=${encodeURIComponent(text)}`);
        expect({ text, status: response.status, field: response.body.errors?.[0]?.field }).toEqual({ text, status: 400, field: 'query.cursor' });
      }
      // A second timeline, so that a first page of one has a cursor.
      expect((await service.http.put(`/v1/timelines/${timelineId}-second`, { title: 'Seconda', defaultLanguage: 'it' })).status).toBe(201);
      const timelines = await service.http.get('/v1/timelines?limit=1');
      expect(timelines.body.nextCursor).toEqual(expect.any(String));
      const unsignedTimelineCursor = Buffer.from(timelineId).toString('base64url');
      expect((await service.http.get(`/v1/timelines?limit=1&cursor=${unsignedTimelineCursor}`)).status).toBe(400);
      expect((await service.http.get(`/v1/timelines?limit=1&cursor=${timelines.body.nextCursor}`)).status).toBe(200);
    });

    test('Accept-Language names no property of an object: __proto__ and constructor are no languages', async () => {
      for (const language of ['__proto__', 'constructor', 'toString']) {
        const response = await service.http.get(`/v1/timelines/${timelineId}/events`, { 'accept-language': language });
        expect(response.status).toBe(200);
        expect(response.body.events[0].title).toBe('Ufficio di collegamento NATO a Tokyo');
      }
    });
  });

  describe('records produced straight into timeline.commands', () => {
    test('every poison kind is decided rejected: malformed under its command id, and writes on every partition go on', async () => {
      const command = (event: Record<string, unknown>) => ({ type: 'RecordEvent', commandId: randomUUID(), timelineId, eventId: randomUUID(), event });
      const withCommandIds = [
        command({ ...eventData(), title: 'bad \u0000 title' }),
        command({ ...eventData(), summary: '\u0000' }),
        command({ ...eventData(), sources: [{ url: 'https://example.org/\u0000', publisher: 'X', language: 'it' }] }),
        command({ ...eventData(), title: '\ud800' }),
        command({ ...eventData(), validTime: '0000' }),
        command({ ...eventData(), '\u0000': 'a key PostgreSQL cannot store, quoted by the validation error' }),
        { type: 'ReviseEvent', commandId: randomUUID(), timelineId, eventId, changes: { factuality: 'confirmed' }, reason: 'r\u0000' },
        { type: 'CreateTimeline', commandId: randomUUID(), timelineId: 'poisoned', timeline: { title: '\u0000', defaultLanguage: 'it' } },
        { type: 'RetractEvent', commandId: randomUUID(), timelineId, eventId, reason: 'x'.repeat(100_000) },
      ];
      const withoutCommandIds = [
        Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x00, 0x7b]),
        Buffer.from('{"type":"RecordEvent","commandId":"\\u0000"}'),
        `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
        'null',
        '[]',
        '"\\ud800"',
        '{"__proto__":{"polluted":true}}',
        null,
      ];
      const malformedBefore = (await service.pool.query(`select count(*)::int as n from decisions where reason = 'malformed'`)).rows[0].n;
      await produce([
        ...withCommandIds.map((value) => ({ value: JSON.stringify(value), headers: { [COMMAND_HEADERS.schemaVersion]: '1' } })),
        ...withoutCommandIds.map((value) => ({ value, headers: { [COMMAND_HEADERS.schemaVersion]: '1' } })),
        { value: JSON.stringify(command(eventData())), headers: { [COMMAND_HEADERS.schemaVersion]: 'not a number' } },
      ]);
      // A valid command whose trace header is hostile: decided as usual, the header not carried on.
      const traced = command(eventData());
      await produce([{ value: JSON.stringify(traced), headers: { [COMMAND_HEADERS.schemaVersion]: '1', traceparent: Buffer.from([0x00, 0x41]) } }]);

      await service.waitForProjection();
      for (const { commandId } of withCommandIds) {
        expect(await commandStatus(commandId)).toMatchObject({ commandId, status: 'rejected', reason: 'malformed' });
      }
      const malformedAfter = (await service.pool.query(`select count(*)::int as n from decisions where reason = 'malformed'`)).rows[0].n;
      expect(malformedAfter - malformedBefore).toBe(withCommandIds.length + withoutCommandIds.length + 1);
      expect(await commandStatus(traced.commandId)).toMatchObject({ status: 'accepted' });
      const { rows } = await service.pool.query(`select traceparent from outbox where command_id = $1`, [traced.commandId]);
      expect(rows).toEqual([{ traceparent: null }]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      await expectWritesOnEveryPartition(service);
    });

    test('a malformed record naming a command id that was decided already changes nothing: the first answer stands', async () => {
      const first = await service.http.post(`/v1/timelines/${timelineId}/events`, validEvent(), { 'idempotency-key': `first-${randomUUID()}` });
      expect(first.status).toBe(201);
      const { commandId } = first.body;
      await produce([{ value: JSON.stringify({ type: 'RecordEvent', commandId, timelineId, event: 'not an event' }) }]);
      await service.waitForProjection();
      expect(await commandStatus(commandId)).toMatchObject({ status: 'accepted' });
    });
  });

  describe('a record the database refuses', () => {
    test('is narrowed down in its batch and decided rejected: unprocessable with the error; the rest of the batch is decided as usual', async () => {
      // Stopped, so that the five records below are fetched and applied as one batch.
      await service.projector.close();
      const commands = [1, 2, 3, 4, 5].map((n) => ({
        type: 'RecordEvent',
        commandId: randomUUID(),
        timelineId,
        eventId: randomUUID(),
        event: { ...eventData(), title: n === 3 ? REFUSED_TITLE : `Evento ${n}` },
      }));
      const versionBefore = (await service.http.get(`/v1/timelines/${timelineId}`)).body.version;
      await produce(commands.map((value) => ({ value: JSON.stringify(value), headers: { [COMMAND_HEADERS.schemaVersion]: '1' } })));
      await startProjector();
      await service.waitForProjection();

      const statuses = await Promise.all(commands.map((c) => commandStatus(c.commandId)));
      expect(statuses.map((s) => [s.status, s.reason])).toEqual([
        ['accepted', null],
        ['accepted', null],
        ['rejected', 'unprocessable'],
        ['accepted', null],
        ['accepted', null],
      ]);
      expect(statuses[2].detail).toMatch(/^23514: .*test_refused_title/);
      // Versions count accepted changes only, in log order.
      expect(statuses.filter((s) => s.status === 'accepted').map((s) => s.version)).toEqual([1, 2, 3, 4].map((n) => versionBefore + n));
      const metrics = (await projectorHttp.get('/metrics')).body as string;
      expect(metrics).toMatch(/timeline_projector_batch_failures_total\{partition="\d+",failure_class="unprocessable"\} [1-9]/);
      expect(metrics).toMatch(/timeline_projector_decisions_total\{command_type="RecordEvent",outcome="rejected",reason="unprocessable"\} 1/);
    });

    test('through the api it is answered 422 unprocessable-command, and GET /v1/commands says so', async () => {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, { ...validEvent(), title: REFUSED_TITLE });
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ type: '/problems/unprocessable-command', status: 422 });
      expect(await commandStatus(response.body.commandId)).toMatchObject({ status: 'rejected', reason: 'unprocessable' });
      await expectWritesOnEveryPartition(service);
    });

    test('a replay from offset 0 into an empty schema with the same rules gives the same decisions', async () => {
      const schema = `replay_${randomUUID().slice(0, 8)}`;
      const replayed = createPool({ url: service.config.database.url, schema, poolSize: 2, applicationName: 'replay-check' });
      await runMigrations(replayed, schema);
      await replayed.query(`alter table events add constraint test_refused_title check (state->>'title' <> '${REFUSED_TITLE}')`);
      const rebuilder = await service.startProjectorInProcess({ DATABASE_SCHEMA: schema, KAFKA_CONSUMER_GROUP: `replay-${schema}` });
      const decisions = (pool: typeof replayed) =>
        pool.query(
          `select command_id, outcome, reason, detail, version, revision, topic_partition, topic_offset from decisions order by topic_partition, topic_offset`,
        );
      try {
        const live = (await decisions(service.pool)).rows;
        expect(live.filter((row) => row.reason === 'unprocessable')).toHaveLength(2);
        await expectEventually(async () => expect((await decisions(replayed)).rows).toEqual(live), { timeoutMs: 60_000, intervalMs: 500 });
      } finally {
        await rebuilder.close();
        await replayed.end();
      }
    });
  });

  describe('operators see a failing partition', () => {
    test('metrics, readiness and the ops status name the partition, its failure class and error; all clear once it moves again', async () => {
      // A fault of the database, not of a record: writes refused as in maintenance. Retried, never decided unprocessable.
      await service.pool.query(`
        create function test_refuse_writes() returns trigger language plpgsql as $$
        begin raise exception 'the database is read-only for maintenance' using errcode = '25006'; end $$;
        create trigger test_refuse_writes before insert on decisions for each statement execute function test_refuse_writes();`);
      const pending = await service.http.post(`/v1/timelines/${timelineId}/events`, validEvent());
      expect(pending.status).toBe(202);

      const ready = await expectEventually(async () => {
        const response = await projectorHttp.get('/health/ready');
        expect(response.status).toBe(503);
        const failing = response.body.checks.error.projection.failingPartitions;
        expect(failing).toEqual([expect.objectContaining({ failureClass: 'database', error: expect.stringMatching(/^25006: the database is read-only/) })]);
        return failing[0];
      });
      const status = await expectEventually(async () => {
        const response = await service.http.get('/ops/status');
        expect(response.body.projection.failing).toEqual([
          expect.objectContaining({ partition: ready.partition, failureClass: 'database', error: expect.stringMatching(/read-only for maintenance/) }),
        ]);
        return response.body;
      });
      expect(status.projection.failing[0].attempts).toBeGreaterThan(0);
      await expectEventually(async () => {
        const metrics = (await projectorHttp.get('/metrics')).body as string;
        expect(metrics).toMatch(new RegExp(`timeline_projector_batch_failures_total\\{partition="${ready.partition}",failure_class="database"\\} [1-9]`));
        const stuck = new RegExp(`timeline_projector_partition_stuck_seconds\\{partition="${ready.partition}",failure_class="database"\\} ([0-9.e+-]+)`).exec(
          metrics,
        );
        expect(Number(stuck?.[1])).toBeGreaterThan(0);
      });

      await service.pool.query('drop trigger test_refuse_writes on decisions; drop function test_refuse_writes();');
      await expectEventually(async () => expect(await commandStatus(pending.body.commandId)).toMatchObject({ status: 'accepted' }), { timeoutMs: 30_000 });
      await expectEventually(async () => expect((await projectorHttp.get('/health/ready')).status).toBe(200));
      await expectEventually(async () => expect((await service.http.get('/ops/status')).body.projection.failing).toEqual([]));
      const metrics = (await projectorHttp.get('/metrics')).body as string;
      expect(metrics).not.toMatch(new RegExp(`timeline_projector_partition_stuck_seconds\\{partition="${ready.partition}"`));
    });
  });
});
