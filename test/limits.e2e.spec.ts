import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { Client } from 'pg';
import { expectEventually } from './support/eventually';
import { SseReader } from './support/sse-reader';
import { TestTimelineService } from './support/timeline-service';
import { bearer, testToken } from './support/tokens';

const EVENT = { kind: 'programme.adopted', title: 'Programme adopted', language: 'en', validTime: '2023-07-12', factuality: 'confirmed' };

/**
 * A client of its own: a token whose subject is this name, since the limits count per token subject. Every
 * request still comes from 127.0.0.1, so this also shows that one address holds many clients. (The api
 * trusts the loopback proxy, and the forwarded address is what would count for a request without a token.)
 */
const from = (subject: string) => ({ ...bearer(testToken({ subject })), 'x-forwarded-for': subject });

/**
 * Limits per client and per process (docs/api.md, Limits). Rates are so low that
 * no token comes back while the test runs (0.001/s), so nothing here depends
 * on timing; the timeouts are cut by Node and awaited, never measured.
 */
describe('limits', () => {
  let service: TestTimelineService;
  const readers: SseReader[] = [];
  const timelineId = `limits-${randomUUID().slice(0, 8)}`;

  const metrics = async () => (await service.http.get('/metrics')).body as string;
  const commandsInLog = async () => [...(await service.log.endOffsets(service.config.kafka.commandsTopic)).values()].reduce((a, b) => a + b, 0);
  const openStream = async (headers: Record<string, string>, query = '') => {
    const reader = await SseReader.open(`${service.http.baseUrl}/v1/stream${query}`, headers);
    readers.push(reader);
    return reader;
  };

  beforeAll(async () => {
    service = await TestTimelineService.start({
      env: {
        HTTP_TRUST_PROXY: '127.0.0.1',
        RATE_LIMIT_WRITES_PER_SECOND: '0.001',
        RATE_LIMIT_WRITES_BURST: '3',
        RATE_LIMIT_QUERIES_PER_SECOND: '0.001',
        RATE_LIMIT_QUERIES_BURST: '1',
        STREAM_MAX_CLIENTS: '3',
        STREAM_MAX_CLIENTS_PER_ADDRESS: '2',
        STREAM_MAX_CATCH_UPS: '1',
        STREAM_CATCH_UP_WAIT_MS: '300',
        STREAM_POLL_INTERVAL_MS: '100',
        STREAM_HEARTBEAT_MS: '200',
        HTTP_REQUEST_TIMEOUT_MS: '1500',
        HTTP_HEADERS_TIMEOUT_MS: '1000',
        HTTP_TIMEOUT_CHECK_INTERVAL_MS: '100',
      },
    });
  });
  afterAll(async () => {
    await Promise.all(readers.map((reader) => reader.close()));
    await service?.stop();
  });

  describe('writes', () => {
    test('past its burst a client is answered 429 rate-limited with Retry-After, and nothing is appended', async () => {
      const client = from('10.0.0.1');
      expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Limits', defaultLanguage: 'en' }, client)).status).toBe(201);
      expect((await service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, client)).status).toBe(201);
      expect((await service.http.post(`/v1/timelines/${timelineId}/events:batch`, { events: [EVENT] }, client)).status).toBe(200);
      const inLog = await commandsInLog();

      const refused = await service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, client);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(refused.body).toMatchObject({ type: '/problems/rate-limited', status: 429, retryable: true, recorded: false });

      expect(await commandsInLog()).toBe(inLog);
      await service.waitForProjection();
      expect((await service.http.get(`/v1/timelines/${timelineId}`)).body).toMatchObject({ eventCount: 2 });
      expect(await metrics()).toContain('timeline_api_requests_limited_total{limit="writes"} 1');
    });

    test('another client still writes', async () => {
      expect((await service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, from('10.0.0.2'))).status).toBe(201);
    });
  });

  describe('expensive queries', () => {
    test('a text search takes a token; past the burst it is 429, and a histogram shares the bucket', async () => {
      const client = from('10.0.1.1');
      expect((await service.http.get(`/v1/timelines/${timelineId}/events?q=programme`, client)).status).toBe(200);
      const refused = await service.http.get(`/v1/timelines/${timelineId}/events?q=programme`, client);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).not.toBeNull();
      expect(refused.body).toMatchObject({ type: '/problems/rate-limited', status: 429 });
      expect((await service.http.get(`/v1/timelines/${timelineId}/histogram?by=year`, client)).status).toBe(429);
      expect(await metrics()).toContain('timeline_api_requests_limited_total{limit="queries"} 2');
    });

    test('a page of one timeline without a text search is not limited', async () => {
      const client = from('10.0.1.1');
      for (let n = 0; n < 3; n += 1) expect((await service.http.get(`/v1/timelines/${timelineId}/events?from=2023`, client)).status).toBe(200);
    });
  });

  describe('stream clients', () => {
    test('past its own bound a client is answered 429, past the process bound anyone 503, before the stream opens', async () => {
      expect((await openStream(from('10.0.2.1'))).status).toBe(200);
      expect((await openStream(from('10.0.2.1'))).status).toBe(200);
      const ownBound = await service.http.get('/v1/stream', from('10.0.2.1'));
      expect(ownBound.status).toBe(429);
      expect(ownBound.body).toMatchObject({ type: '/problems/rate-limited' });
      expect(ownBound.headers.get('retry-after')).not.toBeNull();

      expect((await openStream(from('10.0.2.2'))).status).toBe(200);
      const processBound = await service.http.get('/v1/stream', from('10.0.2.3'));
      expect(processBound.status).toBe(503);
      expect(processBound.body).toMatchObject({ type: '/problems/overloaded', retryable: true });
      expect(processBound.headers.get('retry-after')).not.toBeNull();
      expect(await metrics()).toContain('timeline_api_requests_limited_total{limit="stream_clients_per_address"} 1');
      expect(await metrics()).toContain('timeline_api_requests_limited_total{limit="stream_clients"} 1');
    });

    test('a stream outlives HTTP_REQUEST_TIMEOUT_MS: the bound is on receiving the request only', async () => {
      // Heartbeats every 200 ms: 12 of them span more than the request timeout and a check after it.
      await expectEventually(() => expect(readers[0].comments).toBeGreaterThanOrEqual(12));
      expect(readers[0].ended).toBe(false);
    });

    test('once streams close their slots are free again', async () => {
      await Promise.all(readers.splice(0).map((reader) => reader.close()));
      await expectEventually(async () => expect((await service.http.get('/ops/status')).body.stream.connectedClients).toBe(0));
      expect((await openStream(from('10.0.2.3'))).status).toBe(200);
    });
  });

  describe('catch-ups', () => {
    test('while one stream reads history, another that must waits STREAM_CATCH_UP_WAIT_MS and is answered 503; once the first is live, it opens', async () => {
      // The feed has handed out the last change once a live stream received it: a stream from 0 is then a catch-up.
      const live = readers[0];
      expect((await service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, from('10.0.3.9'))).status).toBe(201);
      await expectEventually(() => expect(live.changes.length).toBeGreaterThanOrEqual(1));

      // Holding the outbox locked keeps the catch-up's first read waiting, for as long as the test needs.
      const locker = new Client({ connectionString: service.config.database.url });
      await locker.connect();
      try {
        await locker.query(`begin; set local search_path = ${service.config.database.schema}; lock table outbox in access exclusive mode`);
        const catchingUp = await openStream(from('10.0.3.1'), '?after=0');
        expect(catchingUp.status).toBe(200);
        const refused = await service.http.get('/v1/stream?after=0', from('10.0.3.2'));
        expect(refused.status).toBe(503);
        expect(refused.body).toMatchObject({ type: '/problems/overloaded' });
        expect(refused.headers.get('retry-after')).not.toBeNull();
        await locker.query('commit');
        await expectEventually(() => expect(catchingUp.changes.length).toBeGreaterThanOrEqual(4));
      } finally {
        await locker.end();
      }
      const next = await openStream(from('10.0.3.2'), '?after=0');
      expect(next.status).toBe(200);
      await expectEventually(() => expect(next.changes.length).toBeGreaterThanOrEqual(4));
      expect(await metrics()).toContain('timeline_api_requests_limited_total{limit="stream_catch_ups"} 1');
    });
  });

  describe('slow clients', () => {
    test('a client that sends half its headers and stalls is answered 408 and cut, by the api and the projector', async () => {
      // The in-process projector does not listen unless asked; its process does, on PROJECTOR_HTTP_PORT.
      await service.projector.listen(0, '127.0.0.1');
      for (const url of [service.http.baseUrl, await service.projector.getUrl()]) {
        const answer = await sendHalfAHeaderAndStall(url);
        expect(answer).toMatch(/^HTTP\/1\.1 408 /);
        expect(answer).toContain('application/problem+json');
      }
    });
  });
});

/** Everything the server sends to a client that stops halfway through its headers, once the server closes. */
async function sendHalfAHeaderAndStall(baseUrl: string): Promise<string> {
  const url = new URL(baseUrl);
  const socket = net.connect(Number(url.port), url.hostname.replace(/^\[(.*)\]$/, '$1'));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET /health/live HTTP/1.1\r\nHost: ${url.host}\r\nX-Half: `);
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.once('close', () => resolve(Buffer.concat(chunks).toString()));
    socket.once('error', reject);
  });
}
