/**
 * Where the tail of a query's latency comes from, on the bench's read model (QUERY_TAIL_EVENTS events, default
 * 1,000,000, generated in SQL as the bench's query section does). For each of the bench's query shapes it sends the
 * bench's sequential requests and sets beside each request: the time the client saw, the time the api logged for it
 * (pino-http's responseTime, from the request's arrival to its answer's end), and the garbage collections of the
 * api that overlapped it (gc-log.ts, preloaded). Then, on one connection, it runs the statement behind each shape with
 * EXPLAIN (ANALYZE, BUFFERS) as many times: PostgreSQL's own planning and execution time and the buffers read.
 * Not part of `npm run bench`. Run: npm run build && node dist/scripts/bench/query-tail.js (QUERY_TAIL_CPU_PROF=1 also
 * writes a CPU profile of the api beside its log).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { createPool, EventQueryRepository, findEventsSql, type EventQuery } from '@timeline/database';
import { freePort, REPO_ROOT, ServiceProcess, startKafkaBroker } from '@timeline/dev-stack';
import { queryShapes } from './query-latency';
import { generateReadModel } from './read-model';
import { summarize } from './stats';
import { runCredentials } from '../auth/run-credentials';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env.QUERY_TAIL_EVENTS ?? 1_000_000);
const REQUESTS = Number(process.env.QUERY_TAIL_REQUESTS ?? 300);
const WARMUP = 30;

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

interface ServerLine {
  url: string;
  responseTime: number;
  /** GC pauses (ms) of the api while it handled the request. */
  gcMs: number;
  gcKinds: string[];
}

/** The api's log lines written since `offset`: each request's line, with the GC pauses (gc-log.ts's file) that overlapped it. */
function serverLines(logFile: string, offset: number, gcFile: string): ServerLine[] {
  const requests: (ServerLine & { start: number; end: number })[] = [];
  const pauses = (existsSync(gcFile) ? readFileSync(gcFile, 'utf8').split('\n') : [])
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { at: number; ms: number; kind: string })
    .map((gc) => ({ kind: gc.kind, start: gc.at, end: gc.at + gc.ms }));
  for (const line of readFileSync(logFile, 'utf8').slice(offset).split('\n')) {
    if (!line.startsWith('{')) continue;
    const parsed = JSON.parse(line) as { req?: { url: string }; responseTime?: number; time?: string };
    if (parsed.req && parsed.responseTime !== undefined && parsed.time) {
      const end = Date.parse(parsed.time);
      requests.push({ url: parsed.req.url, responseTime: parsed.responseTime, gcMs: 0, gcKinds: [], start: end - parsed.responseTime - 1, end });
    }
  }
  for (const request of requests) {
    for (const pause of pauses.filter((p) => p.start < request.end && p.end > request.start)) {
      request.gcMs += pause.end - pause.start;
      request.gcKinds.push(`${pause.kind} ${(pause.end - pause.start).toFixed(1)}`);
    }
  }
  return requests;
}

async function main(): Promise<void> {
  const database = `timeline_query_tail_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${database}`);
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
  process.env.KAFKA_SCRIPT ??= path.join(REPO_ROOT, 'scripts', 'kafka', 'kafka.sh');
  const broker = await startKafkaBroker();
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'timeline-query-tail-'));
  const logFile = path.join(logDir, 'api.log');
  let api: ServiceProcess | null = null;
  const pool = createPool({ url, schema: 'tail', poolSize: 2, statementTimeoutMs: 0, applicationName: 'query-tail' });
  try {
    api = ServiceProcess.spawn(
      'api',
      'api',
      {
        DATABASE_URL: url,
        DATABASE_SCHEMA: 'tail',
        KAFKA_BROKERS: broker.bootstrap,
        KAFKA_COMMANDS_TOPIC: `timeline.commands.tail-${randomBytes(4).toString('hex')}`,
        LOG_LEVEL: 'info',
        NODE_OPTIONS: [
          `--require ${path.join(REPO_ROOT, 'dist', 'scripts', 'bench', 'gc-log.js')}`,
          // QUERY_TAIL_CPU_PROF=1: a CPU profile of the api, written beside its log when it stops.
          ...(process.env.QUERY_TAIL_CPU_PROF === '1' ? [`--require ${path.join(REPO_ROOT, 'dist', 'scripts', 'bench', 'cpu-profile.js')}`] : []),
          // QUERY_TAIL_API_NODE_OPTIONS: more options for the api (e.g. --max-semi-space-size=64), to compare.
          ...(process.env.QUERY_TAIL_API_NODE_OPTIONS ? [process.env.QUERY_TAIL_API_NODE_OPTIONS] : []),
        ].join(' '),
        CPU_PROFILE_PATH: path.join(logDir, 'api.cpuprofile'),
        GC_LOG_FILE: path.join(logDir, 'api-gc.jsonl'),
        ...runCredentials.env,
      },
      await freePort(),
      logFile,
    );
    await api.waitReady();
    const started = Date.now();
    const load = await generateReadModel(pool, EVENTS, 300);
    console.log(`${EVENTS.toLocaleString('en')} events generated in ${((Date.now() - started) / 1000).toFixed(0)} s; api logs in ${logFile}`);

    console.log('\nthrough HTTP, sequential (ms): client p50/p99/max | api responseTime p50/p99/max | GC in the api during the slowest 1 %');
    for (const shape of await queryShapes(api.url, load.knownAtMiddle)) {
      const offset = statSync(logFile).size;
      const client: number[] = [];
      for (let n = 0; n < WARMUP + REQUESTS; n++) {
        const begun = process.hrtime.bigint();
        const response = await fetch(`${api.url}${shape.path}`, { headers: runCredentials.authorization });
        await response.arrayBuffer();
        if (n >= WARMUP) client.push(Number(process.hrtime.bigint() - begun) / 1e6);
      }
      // pino writes asynchronously: let the last lines reach the file.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const server = serverLines(logFile, offset, path.join(logDir, 'api-gc.jsonl'))
        .filter((line) => line.url.startsWith(shape.path.split('?')[0]))
        .slice(WARMUP);
      const [c, s] = [summarize(client), summarize(server.map((line) => line.responseTime))];
      const slowest = client
        .map((ms, index) => ({ ms, server: server[index] }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, Math.max(3, Math.ceil(REQUESTS / 100)));
      console.log(`  ${shape.name.padEnd(32)} ${c.p50} / ${c.p99} / ${c.max} | ${s.p50} / ${s.p99} / ${s.max}`);
      for (const slow of slowest) {
        const gc = slow.server ? `${slow.server.gcMs.toFixed(1)} ms GC (${slow.server.gcKinds.join(', ') || 'none'})` : 'no log line';
        console.log(`      client ${slow.ms.toFixed(1)} ms, api ${slow.server?.responseTime.toFixed(1) ?? '?'} ms, ${gc}`);
      }
      const allGc = server.reduce((sum, line) => sum + line.gcMs, 0);
      const withGc = server.filter((line) => line.gcMs > 0).length;
      const overFive = server.filter((line) => line.gcMs > 5).length;
      console.log(`      GC over all ${server.length} requests: ${allGc.toFixed(1)} ms in ${withGc} of them (${overFive} over 5 ms)`);
    }

    if (process.env.QUERY_TAIL_CPU_PROF === '1') {
      process.kill(api.pid, 'SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      console.log(`\nCPU profile of the api: ${path.join(logDir, 'api.cpuprofile')}`);
    }

    console.log(
      '\nPostgreSQL alone, EXPLAIN (ANALYZE, BUFFERS) of the same statements, one connection (ms): planning p50/p99 | execution p50/p99/max | buffers hit/read p50',
    );
    const events = new EventQueryRepository(pool);
    const tsquery = await events.searchQuery('collegamento');
    const deep = await (async () => {
      let keyset: EventQuery['after'];
      for (let page = 0; page < 40; page++) {
        const found = await events.findEvents({ timelineId: 'bench-q-17', order: 'asc', limit: 51, after: keyset });
        // A timeline of fewer pages (a smaller read model): its last one.
        if (found.events.length < 51) break;
        keyset = found.events[49].keyset;
      }
      return keyset;
    })();
    const statements: { name: string; query: EventQuery; tsquery?: string }[] = [
      { name: 'first page of a timeline', query: { timelineId: 'bench-q-17', order: 'asc', limit: 51 } },
      { name: 'deep cursor page (page 41)', query: { timelineId: 'bench-q-17', order: 'asc', limit: 51, after: deep } },
      { name: 'knownAt, 180 days ago', query: { timelineId: 'bench-q-17', order: 'asc', limit: 51, knownAt: load.knownAtMiddle } },
      { name: 'q search in a timeline', query: { timelineId: 'bench-q-17', order: 'asc', limit: 21, text: 'collegamento' }, tsquery },
      { name: 'actor filter, all timelines', query: { actors: ['actor-42'], order: 'asc', limit: 51 } },
      { name: 'actor + knownAt, all timelines', query: { actors: ['actor-42'], order: 'asc', limit: 51, knownAt: load.knownAtMiddle } },
    ];
    const connection = await pool.connect();
    try {
      for (const { name, query, tsquery: text } of statements) {
        const { text: sql, values } = findEventsSql(query, text);
        const planning: number[] = [];
        const execution: number[] = [];
        const hit: number[] = [];
        const read: number[] = [];
        for (let n = 0; n < WARMUP + REQUESTS; n++) {
          const { rows } = await connection.query<{ 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number; Plan: Record<string, number> }] }>(
            `explain (analyze, buffers, format json) ${sql}`,
            values,
          );
          if (n < WARMUP) continue;
          const [plan] = rows[0]['QUERY PLAN'];
          planning.push(plan['Planning Time']);
          execution.push(plan['Execution Time']);
          hit.push(plan.Plan['Shared Hit Blocks']);
          read.push(plan.Plan['Shared Read Blocks']);
        }
        const [p, e] = [summarize(planning), summarize(execution)];
        console.log(`  ${name.padEnd(32)} ${p.p50} / ${p.p99} | ${e.p50} / ${e.p99} / ${e.max} | ${summarize(hit).p50} / ${summarize(read).p50}`);
      }
    } finally {
      connection.release();
    }
  } finally {
    await pool.end();
    await api?.stop(10_000);
    await broker.stop();
    await admin(`drop database if exists ${database} with (force)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
