import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fc from 'fast-check';
import {
  freePort,
  reportedStatement,
  ServiceProcess,
  startEmbeddedPostgres,
  startEmbeddedReplica,
  type RunningPostgres,
  type RunningReplica,
} from '@timeline/dev-stack';
import { expectEventually } from './support/eventually';
import { HttpClient } from './support/http-client';
import { TestTimelineService } from './support/timeline-service';

/**
 * Reads past one PostgreSQL (invariant 9, read your own writes): the api with a streaming replica of its own
 * embedded primary. A read that sends back a write's Consistency-Token sees the write, whichever server
 * answers; `timeline_reads_total{server}` shows which one did.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20_261_207);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 10);
/** Long enough to tell a read that waited its bound from one that did not, on a loaded machine. */
const CONSISTENCY_WAIT_MS = 400;
const SETTINGS = {
  READ_REPLICA_CHECK_INTERVAL_MS: '200',
  READ_CONSISTENCY_WAIT_MS: String(CONSISTENCY_WAIT_MS),
  READ_REPLICA_MAX_LAG_SECONDS: '30',
};

describe('reads through a streaming replica', () => {
  let primary: RunningPostgres;
  let replica: RunningReplica;
  let service: TestTimelineService;
  let http: HttpClient;

  beforeAll(async () => {
    primary = await startEmbeddedPostgres();
    replica = await startEmbeddedReplica(primary);
    service = await TestTimelineService.start({ postgresUrl: primary.url, readReplicaUrls: (database) => [replica.urlOf(database)], env: SETTINGS });
    http = service.http;
    await created(http, 'replicated');
    await expectEventually(async () => expect((await replicaStatus(http)).inRotation).toBe(true), { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await service?.stop();
    await replica?.stop();
    await primary?.stop();
  });

  test("a read with a write's token sees the write, and reads go to the replica", async () => {
    for (let n = 0; n < 20; n += 1) {
      const { eventId, token } = await recorded(http, 'replicated', n);
      const read = await http.get(`/v1/events/${eventId}`, { 'consistency-token': token });
      expect({ status: read.status, eventId: read.body.eventId }).toEqual({ status: 200, eventId });
    }
    const before = await readsBy(http);
    for (let n = 0; n < 10; n += 1) expect((await http.get('/v1/timelines/replicated')).status).toBe(200);
    const after = await readsBy(http);
    expect(after['replica-0'] - before['replica-0']).toBe(10);
    expect(after.primary).toBe(before.primary);
  });

  test('while replay is paused, a read with the token waits its bound and is answered by the primary; resumed, the replica answers again', async () => {
    await replica.pauseReplay();
    try {
      const { eventId, token } = await recorded(http, 'replicated', 100);
      // Without the token the replica answers, and has not seen the write.
      expect((await http.get(`/v1/events/${eventId}`)).status).toBe(404);
      const before = await readsBy(http);
      const startedAt = Date.now();
      const read = await http.get(`/v1/events/${eventId}`, { 'consistency-token': token });
      const took = Date.now() - startedAt;
      expect({ status: read.status, eventId: read.body.eventId }).toEqual({ status: 200, eventId });
      expect(took).toBeGreaterThanOrEqual(CONSISTENCY_WAIT_MS - 20);
      const after = await readsBy(http);
      expect({ primary: after.primary - before.primary, replica: after['replica-0'] - before['replica-0'] }).toEqual({ primary: 1, replica: 0 });
      // The page of the timeline, the search and the ops counts too.
      const page = await http.get(`/v1/timelines/replicated/events?limit=500`, { 'consistency-token': token });
      expect(page.body.events.map((event: { eventId: string }) => event.eventId)).toContain(eventId);
    } finally {
      await replica.resumeReplay();
    }
    const { eventId, token } = await recorded(http, 'replicated', 101);
    await expectEventually(async () => {
      const before = await readsBy(http);
      const read = await http.get(`/v1/events/${eventId}`, { 'consistency-token': token });
      expect(read.status).toBe(200);
      expect((await readsBy(http))['replica-0'] - before['replica-0']).toBe(1);
    });
  });

  test('a replica made unreachable leaves the rotation and comes back by itself; the api stays ready and every read is answered', async () => {
    await replica.kill();
    await expectEventually(async () => {
      const status = await replicaStatus(http);
      expect(status).toMatchObject({ inRotation: false, lagBytes: null });
      expect(status.lastError).toEqual(expect.any(String));
    });
    expect((await http.get('/health/ready')).status).toBe(200);
    expect(await metric(http, 'timeline_read_replica_in_rotation{replica="replica-0"}')).toBe(0);
    const { eventId, token } = await recorded(http, 'replicated', 200);
    expect((await http.get(`/v1/events/${eventId}`, { 'consistency-token': token })).status).toBe(200);
    expect((await http.get(`/v1/events/${eventId}`)).status).toBe(200);
    await replica.restart();
    await expectEventually(async () => expect(await replicaStatus(http)).toMatchObject({ inRotation: true, lastError: null }), { timeoutMs: 30_000 });
    expect(await metric(http, 'timeline_read_replica_in_rotation{replica="replica-0"}')).toBe(1);
    expect((await http.get('/health/ready')).status).toBe(200);
  });

  test('a token this service did not give out is a 400, on reads and on the stream', async () => {
    for (const [path, headers] of [
      ['/v1/timelines/replicated', { 'consistency-token': 'garbage' }],
      ['/v1/events?q=dichiarazione', { 'consistency-token': 'v1.123' }],
      ['/v1/stream?consistencyToken=v2.0000000000000000', {}],
    ] as [string, Record<string, string>][]) {
      const answer = await http.get(path, headers);
      expect({ path, status: answer.status, type: answer.body.type }).toEqual({ path, status: 400, type: '/problems/invalid-consistency-token' });
    }
  });

  describe('two apis on the same primary and replica', () => {
    let secondApi: ServiceProcess;
    let second: HttpClient;
    let logDir: string;

    beforeAll(async () => {
      logDir = mkdtempSync(path.join(os.tmpdir(), 'read-replicas-'));
      secondApi = ServiceProcess.spawn('second api', 'api', { ...service.env, LOG_LEVEL: 'warn' }, await freePort(), path.join(logDir, 'api.log'), 'source');
      await secondApi.waitReady();
      second = new HttpClient(secondApi.url);
      await expectEventually(async () => expect((await replicaStatus(second)).inRotation).toBe(true), { timeoutMs: 30_000 });
    });
    afterAll(async () => {
      // SIGKILL: nothing of it needs a graceful end, and stop()'s grace timer would keep Jest waiting.
      await secondApi?.kill();
      if (logDir) rmSync(logDir, { recursive: true, force: true });
    });

    test("any interleaving of writes and token-carrying reads over both apis never reads a version older than the caller's last write", async () => {
      const step = fc.oneof(
        { weight: 3, arbitrary: fc.record({ kind: fc.constant('write' as const), api: fc.integer({ min: 0, max: 1 }) }) },
        { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), api: fc.integer({ min: 0, max: 1 }) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('pause' as const, 'resume' as const) }) },
      );
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 2 }), async (callers) => {
          const timelineId = `interleaved-${run++}`;
          await created(http, timelineId);
          try {
            // Each caller keeps its last write's version and token, as the typed client does; both run at once.
            await Promise.all(
              callers.map(async (steps, caller) => {
                let last = { version: 0, token: '' };
                for (const [index, action] of steps.entries()) {
                  if (action.kind === 'pause') await replica.pauseReplay();
                  else if (action.kind === 'resume') await replica.resumeReplay();
                  else if (action.kind === 'write') {
                    const answer = await [http, second][action.api].post(`/v1/timelines/${timelineId}/events`, reportedStatement(caller * 100 + index));
                    expect(answer.status).toBe(201);
                    if (answer.body.version > last.version) last = { version: answer.body.version, token: answer.headers.get('consistency-token')! };
                  } else if (action.kind === 'read' && last.token) {
                    const read = await [http, second][action.api].get(`/v1/timelines/${timelineId}`, { 'consistency-token': last.token });
                    expect(read.status).toBe(200);
                    expect(read.body.version).toBeGreaterThanOrEqual(last.version);
                  }
                }
              }),
            );
          } finally {
            await replica.resumeReplay();
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
    });
  });
});

async function created(http: HttpClient, timelineId: string): Promise<void> {
  const answer = await http.put(`/v1/timelines/${timelineId}`, { title: timelineId, defaultLanguage: 'it' });
  expect([answer.status, answer.headers.get('consistency-token')]).toEqual([201, expect.stringMatching(/^v1\.[0-9a-f]{16}$/)]);
}

async function recorded(http: HttpClient, timelineId: string, n: number): Promise<{ eventId: string; token: string }> {
  const answer = await http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(n));
  expect(answer.status).toBe(201);
  return { eventId: answer.body.event.eventId, token: answer.headers.get('consistency-token')! };
}

async function replicaStatus(http: HttpClient) {
  const status = await http.get('/ops/status');
  expect(status.status).toBe(200);
  return status.body.readReplicas[0];
}

async function metricsText(http: HttpClient): Promise<string> {
  const answer = await http.get<string>('/metrics');
  expect(answer.status).toBe(200);
  return answer.body;
}

async function metric(http: HttpClient, series: string): Promise<number> {
  const line = (await metricsText(http)).split('\n').find((candidate) => candidate.startsWith(`${series} `));
  if (!line) throw new Error(`no series ${series}`);
  return Number(line.slice(series.length + 1));
}

/** timeline_reads_total by server. */
async function readsBy(http: HttpClient): Promise<Record<string, number>> {
  const text = await metricsText(http);
  return Object.fromEntries([...text.matchAll(/^timeline_reads_total\{server="([^"]+)"\} (\S+)$/gm)].map(([, server, value]) => [server, Number(value)]));
}
