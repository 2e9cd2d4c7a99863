import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { Parser } from '@asyncapi/parser';
import { CHANGE_DATA_SCHEMAS, type ChangeEventType } from '@timeline/domain';
import { expectEventually } from './support/eventually';
import { SseReader } from './support/sse-reader';
import { TestTimelineService } from './support/timeline-service';

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
      env: { STREAM_POLL_INTERVAL_MS: '100', STREAM_HEARTBEAT_MS: '300', STREAM_CLIENT_BUFFER_BYTES: '65536' },
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
    const { rows } = await service.pool.query(`select position from outbox where ${where} order by transaction_id, position`);
    return rows.map((row) => String(row.position));
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
    const fromNow = await open();
    await new Promise((resolve) => setTimeout(resolve, 200));
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

  test('a change that commits late with a lower position is not skipped (two writers interleaved)', async () => {
    const reader = await open();
    const { rows } = await service.pool.query(`select payload from outbox where change_type = 'EventRecorded' limit 1`);
    const payload = rows[0].payload;
    const insert = (client: { query: Function }, commandId: string) =>
      client.query(
        `insert into outbox (timeline_id, change_type, command_id, change_index, payload, known_at)
         values ($1, 'EventRecorded', $2, 0, $3, now()) returning position`,
        [timelineA, commandId, { ...payload, commandId }],
      );
    // Writer A takes its transaction id first; writer B takes a later one but the lower position, and commits last.
    const a = await service.pool.connect();
    const b = await service.pool.connect();
    try {
      await a.query('begin');
      await a.query('select pg_current_xact_id()');
      await b.query('begin');
      await b.query('select pg_current_xact_id()');
      const low = (await insert(b, randomUUID())).rows[0].position;
      const high = (await insert(a, randomUUID())).rows[0].position;
      expect(low).toBeLessThan(high);
      await a.query('commit');
      await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual([String(high)]));
      await b.query('commit');
      await expectEventually(() => expect(reader.changes.map((change) => change.id)).toEqual([String(high), String(low)]));
      // Resuming after the higher position still finds the lower one that committed after it.
      const resumed = await open(`?after=${high}`);
      await expectEventually(() => expect(resumed.changes.map((change) => change.id)).toEqual([String(low)]));
    } finally {
      await a.query('rollback').catch(() => undefined);
      await b.query('rollback').catch(() => undefined);
      a.release();
      b.release();
    }
  });

  test('a client that stops reading is cut off with event: overflow; a fast client meanwhile gets every change', async () => {
    const fast = await open();
    const slow = await openStalledClient(service.http.baseUrl);
    await new Promise((resolve) => setTimeout(resolve, 200));
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
      console.log('fast', fast.ended, fast.messages.map((m) => m.event ?? m.id));
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

  test('the AsyncAPI document is served and valid; ce_dataschema URLs serve the JSON Schemas', async () => {
    const response = await service.http.get('/asyncapi.json');
    expect(response.status).toBe(200);
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(response.body));
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 0);
    expect(errors.map((error) => `${error.path.join('.')}: ${error.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.channels().all().map((channel) => channel.address())).toEqual([
      service.config.kafka.commandsTopic,
      service.config.kafka.eventsTopic,
      '/v1/stream',
    ]);
    expect(document!.messages().all().map((message) => message.name()).sort()).toEqual(
      ['CreateTimeline', 'EventRecorded', 'EventRetracted', 'EventRevised', 'RecordEvent', 'RetractEvent', 'ReviseEvent', 'StreamOverflow', 'StreamedChange', 'TimelineCreated'],
    );
    for (const type of ['timeline.timeline.created.v1', 'timeline.event.recorded.v1', 'timeline.event.revised.v1', 'timeline.event.retracted.v1']) {
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
  socket.write(`GET /v1/stream HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\n\r\n`);
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
