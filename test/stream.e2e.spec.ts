import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { Parser } from '@asyncapi/parser';
import { ProjectionRepository, type DecisionRow, type BatchToApply } from '@timeline/database';
import { CHANGE_DATA_SCHEMAS, type ChangeEventType } from '@timeline/change-events';
import { Client } from 'pg';
import { expectEventually } from './support/eventually';
import { SseReader } from './support/sse-reader';
import { createTestDatabase } from './support/test-database';
import { TestTimelineService } from './support/timeline-service';
import { bearer, testToken } from './support/tokens';

const event = (n: number, extra: Record<string, unknown> = {}) => ({
  kind: 'statement.reported',
  title: `Dichiarazione ${n}`,
  language: 'it',
  validTime: `2023-07-${String((n % 28) + 1).padStart(2, '0')}`,
  factuality: 'reported',
  ...extra,
});

describe('GET /v1/stream: accepted changes over Server-Sent Events', () => {
  let service: TestTimelineService;
  const readers: SseReader[] = [];
  const timelineA = `stream-a-${randomUUID().slice(0, 8)}`;
  const timelineB = `stream-b-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    service = await TestTimelineService.start({
      // No clock tolerance, so that a short-lived token's stream ends within seconds.
      env: { STREAM_POLL_INTERVAL_MS: '100', STREAM_HEARTBEAT_MS: '300', STREAM_CLIENT_BUFFER_BYTES: '65536', AUTH_CLOCK_TOLERANCE_SECONDS: '0' },
    });
    expect((await service.http.put(`/v1/timelines/${timelineA}`, { title: 'A', defaultLanguage: 'it' })).status).toBe(201);
    expect((await service.http.put(`/v1/timelines/${timelineB}`, { title: 'B', defaultLanguage: 'it' })).status).toBe(201);
  });
  afterAll(async () => {
    await Promise.all(readers.map((reader) => reader.close()));
    await service?.stop();
  });

  async function open(query = '', headers: Record<string, string> = {}): Promise<SseReader> {
    const reader = await SseReader.open(`${service.http.baseUrl}/v1/stream${query}`, headers);
    readers.push(reader);
    return reader;
  }

  /** Positions of the outbox in the order every reader uses. */
  async function outboxOrder(where = 'true'): Promise<string[]> {
    const { rows } = await service.pool.query(`select position from outbox where ${where} order by position`);
    return rows.map((row) => String(row.position));
  }

  /** Waits until the api's stream feed serves `count` clients: a client that does not read is registered. */
  async function streamClients(count: number): Promise<void> {
    await expectEventually(async () => expect((await service.http.get('/ops/status')).body.stream.connectedClients).toBe(count));
  }

  async function write(timelineId: string, count: number, from = 0): Promise<string[]> {
    const ids: string[] = [];
    for (let n = from; n < from + count; n += 1) {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, event(n));
      expect(response.status).toBe(201);
      ids.push(response.body.event.eventId);
    }
    return ids;
  }

  test('bad parameters are a 400 problem that names them', async () => {
    const cases: [string, Record<string, string>, string][] = [
      ['?after=soon', {}, 'query.after'],
      ['?after=-1', {}, 'query.after'],
      ['?type=timeline.event.deleted.v1', {}, 'query.type'],
      ['?timelineId=Not_A_Slug', {}, 'query.timelineId'],
      ['?since=3', {}, 'query.since'],
      ['', { 'last-event-id': 'abc' }, 'header.last-event-id'],
      ['?after=987654321', {}, 'query.after'],
    ];
    for (const [query, headers, field] of cases) {
      const response = await service.http.get(`/v1/stream${query}`, headers);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body).toMatchObject({ type: '/problems/invalid-request', status: 400 });
      expect(response.body.errors.map((error: { field: string }) => error.field.replace(/\.\d+$/, ''))).toContain(field);
    }
  });

  test('?after=0 catches up from the beginning and goes live across the seam with no gap and no duplicate; idle, heartbeats', async () => {
    await write(timelineA, 30);
    // Writes go on while the client connects and catches up.
    const writing = Promise.all([write(timelineA, 20, 30), write(timelineB, 20)]);
    const reader = await open('?after=0');
    expect(reader.status).toBe(200);
    expect(reader.contentType).toMatch(/^text\/event-stream/);
    await writing;
    const b = await service.http.post(`/v1/timelines/${timelineB}/events`, event(99));
    await service.http.post(`/v1/events/${b.body.event.eventId}/revisions`, { changes: { factuality: 'confirmed' }, reason: 'Confirmed' });
    await service.http.post(`/v1/events/${b.body.event.eventId}/retraction`, { reason: 'Wrong timeline' });
    await service.waitForProjection();

    const expected = await outboxOrder();
    expect(expected).toHaveLength(2 + 30 + 40 + 3);
    await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual(expected));
    for (const { event: cloudEvent } of reader.changes) {
      expect(cloudEvent).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json' });
      expect(CHANGE_DATA_SCHEMAS[cloudEvent.type as ChangeEventType].safeParse(cloudEvent.data).error).toBeUndefined();
    }
    await expectEventually(() => expect(reader.comments).toBeGreaterThanOrEqual(2));
  });

  test('no position streams from now; Last-Event-ID resumes exactly after the position it names', async () => {
    const all = await outboxOrder();
    // Its start is fixed before the answer's headers are sent.
    const fromNow = await open();
    await write(timelineA, 2, 100);
    const resumed = await open('', { 'last-event-id': all[9] });
    const expected = await outboxOrder();
    await expectEventually(() => expect(fromNow.changes.map((change) => change.id)).toEqual(expected.slice(all.length)));
    await expectEventually(() => expect(resumed.changes.map((change) => change.id)).toEqual(expected.slice(10)));
  });

  test('filters: only the named timeline and change types, in catch-up and live', async () => {
    const reader = await open(`?after=0&timelineId=${timelineB}&type=timeline.event.revised.v1,timeline.event.retracted.v1`);
    const recorded = await service.http.post(`/v1/timelines/${timelineB}/events`, event(7));
    await service.http.post(`/v1/events/${recorded.body.event.eventId}/revisions`, { changes: { title: 'Nuovo titolo' }, reason: 'Typo' });
    await write(timelineA, 1, 200);
    const expected = await outboxOrder(`timeline_id = '${timelineB}' and change_type in ('EventRevised', 'EventRetracted')`);
    expect(expected).toHaveLength(3);
    await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual(expected));
    expect(reader.changes.map((change) => change.event.type)).toEqual([
      'timeline.event.revised.v1',
      'timeline.event.retracted.v1',
      'timeline.event.revised.v1',
    ]);
  });

  test('of two batches in flight, the one that takes positions second waits until the first commits, its other rows written: nothing commits below a position read', async () => {
    const reader = await open();
    const projection = new ProjectionRepository(service.pool);
    const topic = `interleaved-${randomUUID().slice(0, 8)}`;
    // Changes that write no read model but the outbox (the timeline's row is in no batch).
    const { rows } = await service.pool.query(`select payload from outbox where change_type = 'TimelineCreated' limit 1`);
    const batch = (partition: number, commandId: string): BatchToApply => ({
      topic,
      decidedOn: { undecided: [], timelines: [], events: [] },
      partition,
      firstOffset: 0,
      nextOffset: 1,
      decisions: [decision(partition, commandId)],
      timelines: [],
      events: [],
      changes: [{ change: { ...rows[0].payload, commandId }, index: 0, traceparent: null }],
      redelivered: [],
    });
    const decision = (partition: number, commandId: string): DecisionRow => ({
      commandId,
      commandType: 'CreateTimeline',
      timelineId: timelineA,
      eventId: null,
      outcome: 'accepted',
      reason: null,
      detail: null,
      fingerprint: null,
      version: 1,
      revision: null,
      changed: true,
      partition,
      offset: 900_000_000,
      knownAt: new Date().toISOString(),
    });
    /** Whether a transaction still running has written the command's decision: inserting it again then waits. */
    const decisionInFlight = async (commandId: string) => {
      const probe = await service.pool.connect();
      try {
        await probe.query('begin');
        await probe.query(`set local lock_timeout = '200ms'`);
        await probe.query(
          `insert into decisions (command_id, command_type, outcome, changed, topic_partition, topic_offset, known_at)
           values ($1, 'CreateTimeline', 'accepted', true, 9, 900000000, now())`,
          [commandId],
        );
        return false;
      } catch (error) {
        if ((error as { code?: string }).code === '55P03') return true; // lock_not_available
        throw error;
      } finally {
        await probe.query('rollback');
        probe.release();
      }
    };
    const positionOf = async (commandId: string) =>
      String((await service.pool.query('select position from outbox where command_id = $1', [commandId])).rows[0].position);
    const first = { commandId: randomUUID(), client: await service.pool.connect() };
    const second = { commandId: randomUUID(), client: await service.pool.connect() };
    try {
      // The second batch starts first (it has the older transaction), the first takes its positions first.
      await second.client.query('begin');
      await second.client.query('select pg_current_xact_id()');
      await first.client.query('begin');
      expect(await projection.applyBatch(batch(0, first.commandId), first.client)).toEqual({ kind: 'applied' });
      const secondPid = (await second.client.query('select pg_backend_pid() as pid')).rows[0].pid;
      const secondSaved = projection.applyBatch(batch(1, second.commandId), second.client);
      await expectEventually(async () => {
        const { rows: activity } = await service.pool.query('select wait_event_type from pg_stat_activity where pid = $1', [secondPid]);
        expect(activity[0].wait_event_type).toBe('Lock');
      });
      // It asks for the counter last: its decision is written already.
      expect(await decisionInFlight(second.commandId)).toBe(true);

      await first.client.query('commit');
      expect(await secondSaved).toEqual({ kind: 'applied' });
      const low = await positionOf(first.commandId);
      await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual([low]));
      await second.client.query('commit');
      const high = await positionOf(second.commandId);
      expect(Number(high)).toBeGreaterThan(Number(low));
      await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual([low, high]));
      const resumed = await open(`?after=${low}`);
      await expectEventually(() => expect(resumed.changes.map((change) => change.id)).toEqual([high]));
    } finally {
      for (const { client } of [first, second]) {
        await client.query('rollback').catch(() => undefined);
        client.release();
      }
    }
  });

  test('a transaction left open in another database of the server holds back neither the stream nor the relay', async () => {
    const before = await outboxOrder();
    const reader = await open();
    const other = await createTestDatabase();
    const idle = new Client({ connectionString: other.url });
    await idle.connect();
    try {
      // Another service's session: it has a transaction id and sits idle in its transaction.
      await idle.query('begin');
      await idle.query('select pg_current_xact_id()');
      const idlePid = (await idle.query('select pg_backend_pid() as pid')).rows[0].pid;

      await write(timelineB, 3, 500);
      const expected = (await outboxOrder()).slice(before.length);
      expect(expected).toHaveLength(3);
      await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual(expected));
      await expectEventually(async () => {
        const { rows } = await service.pool.query<{ unsent: number }>('select count(*)::int as unsent from outbox where sent_at is null');
        expect(rows[0].unsent).toBe(0);
      });
      const { rows } = await service.pool.query('select state, backend_xid is not null as has_xid from pg_stat_activity where pid = $1', [idlePid]);
      expect(rows).toEqual([{ state: 'idle in transaction', has_xid: true }]);
    } finally {
      await idle.end();
      await other.drop();
    }
  });

  test('a client that stops reading is cut off with event: overflow; a fast client meanwhile gets every change', async () => {
    const connected = (await service.http.get('/ops/status')).body.stream.connectedClients;
    const fast = await open();
    const slow = await openStalledClient(service.http.baseUrl);
    await streamClients(connected + 2);
    // About 400 kB per change: the stalled client's socket buffers fill after a few, then its queue passes the bound.
    const translations = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [String.fromCharCode(97 + Math.floor(i / 26), 97 + (i % 26)), { title: `T${i}`, summary: 'x'.repeat(10_000) }]),
    );
    const started = Date.now();
    for (let n = 0; n < 24; n += 1) {
      const response = await service.http.post(`/v1/timelines/${timelineA}/events`, event(300 + n, { translations }));
      expect(response.status).toBe(201);
    }
    await expectEventually(() => expect(fast.changes).toHaveLength(24), { timeoutMs: 30_000 }).catch((error) => {
      console.log(
        'fast',
        fast.ended,
        fast.messages.map((m) => m.event ?? m.id),
      );
      throw error;
    });
    const fastMs = Date.now() - started;
    expect(fast.messages.filter((message) => message.event === 'overflow')).toEqual([]);

    const text = await slow.readToEnd();
    expect(text).toMatch(/event: overflow\ndata: \{"reason":"client-too-slow"/);
    const slowCount = (text.match(/^id: /gm) ?? []).length;
    expect(slowCount).toBeLessThan(24);
    console.log(`stream: fast client got 24 × 400 kB changes in ${fastMs} ms; the stalled client got ${slowCount} before overflow`);
  });

  test('a stream ends with event: token-expired once the token that opened it expires; reopening with that token is a 401', async () => {
    const shortLived = testToken({ scope: 'timelines:read', expiresInSeconds: 2 });
    const reader = await open('', bearer(shortLived));
    expect(reader.status).toBe(200);
    const opened = Date.now();
    await expectEventually(() => expect(reader.ended).toBe(true), { timeoutMs: 10_000 });
    // exp has whole seconds: the token lasts 1–2 s, and the stream ends at the first heartbeat (300 ms) past it.
    expect(Date.now() - opened).toBeGreaterThanOrEqual(500);
    expect(reader.messages.at(-1)).toMatchObject({ event: 'token-expired' });
    expect(JSON.parse(reader.messages.at(-1)!.data).detail).toMatch(/reconnect with a valid token and Last-Event-ID/);
    const again = await open('', bearer(shortLived));
    expect(again.status).toBe(401);
  });

  test('the AsyncAPI document is served and valid; ce_dataschema URLs serve the JSON Schemas', async () => {
    const response = await service.http.get('/asyncapi.json');
    expect(response.status).toBe(200);
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(response.body));
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison -- 0 is Error; that enum is in a nested copy of @stoplight/types
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
    expect(errors.map((error) => `${error.path.join('.')}: ${error.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(
      document!
        .channels()
        .all()
        .map((channel) => channel.address()),
    ).toEqual([service.config.kafka.commandsTopic, service.config.kafka.eventsTopic, '/v1/stream']);
    expect(
      document!
        .messages()
        .all()
        .map((message) => message.name())
        .sort(),
    ).toEqual([
      'CreateTimeline',
      'EventRecorded',
      'EventRetracted',
      'EventRevised',
      'RecordEvent',
      'Redact',
      'RedactionApplied',
      'RetractEvent',
      'ReviseEvent',
      'StreamOverflow',
      'StreamTokenExpired',
      'StreamedChange',
      'TimelineCreated',
    ]);
    for (const type of [
      'timeline.timeline.created.v1',
      'timeline.event.recorded.v1',
      'timeline.event.revised.v1',
      'timeline.event.retracted.v1',
      'timeline.redaction.applied.v1',
    ]) {
      const schema = await service.http.get(`/schemas/${type}.json`);
      expect(schema.status).toBe(200);
      expect(schema.body).toMatchObject({ $id: `${service.config.publicBaseUrl}/schemas/${type}.json`, type: 'object' });
    }
    expect((await service.http.get('/schemas/timeline.event.deleted.v1.json')).status).toBe(404);
  });
});

/** A raw HTTP client that sends the request and then never reads: its socket buffers fill and stay full. */
async function openStalledClient(baseUrl: string) {
  const url = new URL(baseUrl);
  const socket = net.connect(Number(url.port), url.hostname);
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET /v1/stream HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\nAuthorization: ${bearer().authorization}\r\n\r\n`);
  socket.pause();
  return {
    /** Starts reading at last: everything the server wrote before it closed, the overflow event included. */
    readToEnd: () =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        socket.on('data', (chunk) => chunks.push(chunk));
        socket.once('end', () => {
          socket.destroy();
          resolve(Buffer.concat(chunks).toString());
        });
        socket.once('error', reject);
        socket.resume();
      }),
  };
}
