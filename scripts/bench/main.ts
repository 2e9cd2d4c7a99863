/**
 * `npm run bench`: figures for this machine.
 *
 *   1. HTTP single-event appends at concurrency 1, 16, 64 (each answered 201 only once decided).
 *   2. The highest concurrency with group commit off (one produce call per request) versus on.
 *   3. Projector replay of 100,000 RecordEvent commands into a fresh schema, with its RSS.
 *   4. The machine.
 *   5. Query latency through HTTP on a generated read model of a million events (first page, deep page,
 *      knownAt, q search, actor filter).
 *
 * Everything runs on 127.0.0.1: a throw-away Kafka broker (test/support/kafka-broker.ts), a throw-away
 * database timeline_bench_<random>, and the api and projector as child processes from dist/. All of it
 * is removed at the end, also on failure or Ctrl-C. Prints a table; writes bench-results.json.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaCommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { Client, Pool } from 'pg';
import { startKafkaBroker, type RunningKafkaBroker } from '../../test/support/kafka-broker';
import { CpuMeter, formatCpu, type CpuUse } from './cpu';
import { measureAppends, putJson, type LoadResult } from './http-load';
import { freePort, REPO_ROOT, RssSampler, ServiceProcess } from '../../test/support/service-process';
import { EVENT_BODY, fillCommandsTopic, timeReplay, type FillResult, type ReplayResult } from './replay';
import { mib, round, table } from './stats';
import { measureQueryLatency, type QueryLatencyResult } from './query-latency';
import { createPool } from '@timeline/database';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CONCURRENCIES = [1, 16, 64];
const WARMUP_S = 2;
const DURATION_S = 10;
const HTTP_TIMELINES = 8;
const REPLAY_TIMELINES = 100;
const REPLAY_RECORD_EVENTS = 100_000;
const REPLAY_TIMEOUT_MS = 180_000;
/** The whole run is bounded: past this, clean up and fail. */
const OVERALL_TIMEOUT_MS = 9 * 60_000;
const PARTITIONS = 3;
const QUERY_EVENTS = 1_000_000;
const QUERY_TIMELINES = 300;
const QUERY_REQUESTS = 300;
/** The api's group-commit settings when PRODUCER_LINGER_MS and PRODUCER_MAX_BATCH are not set. */
const GROUP_COMMIT_DEFAULTS = TimelineConfig.fromEnvironment({}).producer;

type Cleanup = () => Promise<void>;
const cleanups: { name: string; run: Cleanup }[] = [];
let cleaning: Promise<void> | null = null;

function onCleanup(name: string, run: Cleanup): void {
  cleanups.push({ name, run });
}

/** Undoes everything, newest first; each step runs even if an earlier one fails. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, run } of cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        console.error(`bench: clean-up of ${name} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}

function step(message: string): void {
  const seconds = ((Date.now() - benchStartedAt) / 1000).toFixed(1).padStart(6);
  console.error(`[${seconds}s] ${message}`);
}

const benchStartedAt = Date.now();
/** Service logs are kept (and their folder printed) only when something went wrong. */
let keepLogs = false;

async function main(): Promise<void> {
  const machine = await machineInfo();
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'timeline-bench-'));
  onCleanup('logs', async () => {
    if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
    else console.error(`bench: service logs kept in ${logDir}`);
  });

  // The repo's own script (the helper would otherwise find the copy the build puts in dist/).
  process.env.KAFKA_SCRIPT ??= path.join(REPO_ROOT, 'scripts', 'kafka', 'kafka.sh');
  step(`starting a throw-away Kafka broker`);
  const broker: RunningKafkaBroker = await startKafkaBroker();
  onCleanup('Kafka broker', () => broker.stop());
  step(`Kafka on ${broker.bootstrap} (pid ${broker.pid})`);

  const database = `timeline_bench_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${database}`));
  onCleanup(`database ${database}`, () => admin((client) => client.query(`drop database if exists ${database} with (force)`)).then(() => undefined));
  const databaseUrl = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
  const pool = new Pool({ connectionString: databaseUrl, max: 2, application_name: 'timeline-bench' });
  onCleanup('bench pool', () => pool.end());
  step(`database ${database}`);

  // Which pids count as whose CPU; `current` follows the processes as sections start and stop them.
  const current: { api: number[]; projector: number[] } = { api: [], projector: [] };
  const meter = new CpuMeter(
    () => ({ api: current.api, projector: current.projector, kafka: [broker.pid], loadgen: [process.pid] }),
    pool,
    database,
  );

  const suffix = randomBytes(4).toString('hex');
  const baseEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: 'bench_http',
    KAFKA_BROKERS: broker.bootstrap,
    KAFKA_COMMANDS_TOPIC: `timeline.commands.bench-http-${suffix}`,
    KAFKA_CONSUMER_GROUP: `timeline-projector-bench-http-${suffix}`,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    LOG_LEVEL: 'warn',
  };
  const processes: ServiceProcess[] = [];
  onCleanup('service processes', async () => {
    await Promise.all(processes.map((service) => service.stop(10_000)));
  });
  const startService = async (name: string, app: 'api' | 'projector', env: Record<string, string>) => {
    const service = ServiceProcess.spawn(name, app, env, await freePort(), path.join(logDir, `${name}.log`));
    processes.push(service);
    await service.waitReady();
    step(`${name} ready on ${service.url} (pid ${service.pid})`);
    return service;
  };

  // ---------------------------------------------------------------- 1. HTTP appends
  const projector = await startService('projector', 'projector', { ...baseEnv, KAFKA_CLIENT_ID: 'bench-projector' });
  const apiOn = await startService('api-group-commit-on', 'api', { ...baseEnv, KAFKA_CLIENT_ID: 'bench-api-on' });
  const timelineIds = Array.from({ length: HTTP_TIMELINES }, (_, index) => `bench-${index + 1}`);
  for (const id of timelineIds) {
    const answer = await putJson(`${apiOn.url}/v1/timelines/${id}`, { title: `Benchmark ${id}`, defaultLanguage: 'it' });
    if (answer.status !== 201) throw new Error(`PUT /v1/timelines/${id} answered ${answer.status}: ${answer.text}`);
  }
  const paths = timelineIds.map((id) => `/v1/timelines/${id}/events`);
  const body = JSON.stringify(EVENT_BODY);
  const load = async (api: ServiceProcess, connections: number) => {
    current.api = [api.pid];
    const result = await measureAppends({ baseUrl: api.url, connections, warmupS: WARMUP_S, durationS: DURATION_S, paths, body }, meter);
    for (const service of [api, projector]) {
      if (service.exited) throw new Error(`${service.name} died during the load (${service.child.exitCode ?? service.child.signalCode}):\n${service.logTail()}`);
    }
    return result;
  };
  current.projector = [projector.pid];

  const apiSampler = new RssSampler(apiOn.pid).start();
  const projectorSampler = new RssSampler(projector.pid).start();
  const http: LoadResult[] = [];
  for (const connections of CONCURRENCIES) {
    step(`section 1: concurrency ${connections} (${WARMUP_S} s warm-up + ${DURATION_S} s)`);
    http.push(await load(apiOn, connections));
  }
  const apiMemory = apiSampler.stop();
  const projectorMemory = projectorSampler.stop();
  await apiOn.stop();

  // ---------------------------------------------------------------- 2. group commit off vs on
  const top = Math.max(...CONCURRENCIES);
  const apiOff = await startService('api-group-commit-off', 'api', {
    ...baseEnv,
    KAFKA_CLIENT_ID: 'bench-api-off',
    PRODUCER_LINGER_MS: '0',
    PRODUCER_MAX_BATCH: '1',
  });
  step(`section 2: group commit off, concurrency ${top}`);
  const off = await load(apiOff, top);
  await apiOff.stop();
  const apiOnAgain = await startService('api-group-commit-on-2', 'api', { ...baseEnv, KAFKA_CLIENT_ID: 'bench-api-on-2' });
  step(`section 2: group commit on, concurrency ${top}`);
  const on = await load(apiOnAgain, top);
  await apiOnAgain.stop();
  await projector.stop();

  // ---------------------------------------------------------------- 3. projector replay
  const replayTopic = `timeline.commands.bench-replay-${suffix}`;
  const replaySchema = `bench_replay_${suffix}`;
  const log = new KafkaCommandLog({ brokers: [broker.bootstrap], clientId: 'bench-writer' });
  onCleanup('bench Kafka client', () => log.close());
  step(`section 3: appending ${REPLAY_RECORD_EVENTS.toLocaleString('en')} RecordEvent commands to ${replayTopic}`);
  const fill: FillResult = await fillCommandsTopic(log, {
    topic: replayTopic,
    partitions: PARTITIONS,
    timelines: REPLAY_TIMELINES,
    recordEvents: REPLAY_RECORD_EVENTS,
  });
  step(`section 3: ${fill.records} records in ${fill.seconds} s; starting a fresh projector on schema ${replaySchema}`);
  const replayPort = await freePort();
  const cpuBefore = await meter.snapshot();
  const spawnedAt = Date.now();
  const replayProjector = ServiceProcess.spawn(
    'projector-replay',
    'projector',
    {
      ...baseEnv,
      DATABASE_SCHEMA: replaySchema,
      KAFKA_COMMANDS_TOPIC: replayTopic,
      KAFKA_CONSUMER_GROUP: `timeline-projector-bench-replay-${suffix}`,
      KAFKA_CLIENT_ID: 'bench-projector-replay',
    },
    replayPort,
    path.join(logDir, 'projector-replay.log'),
  );
  processes.push(replayProjector);
  current.api = [];
  current.projector = [replayProjector.pid];
  const replay: ReplayResult = await timeReplay(replayProjector, spawnedAt, pool, replaySchema, replayTopic, fill.endOffsets, REPLAY_TIMEOUT_MS);
  const replayCpu = CpuMeter.between(cpuBefore, await meter.snapshot());
  // The outbox relay runs in the projector process too: how far behind it was when the projection finished.
  const relay = await pool
    .query<{ unsent: string; total: string }>(`select count(*) filter (where sent_at is null) as unsent, count(*) as total from "${replaySchema}".outbox`)
    .then(({ rows }) => ({ outboxRows: Number(rows[0].total), unsentAtCompletion: Number(rows[0].unsent) }))
    .catch(() => null);
  step(`section 3: ${replay.completed ? 'done' : 'TIMED OUT'} after ${replay.totalSeconds} s`);
  await replayProjector.stop();
  const decisions = await pool.query<{ outcome: string; count: string }>(
    `select outcome, count(*) from "${replaySchema}".decisions group by outcome order by outcome`,
  );
  const outcomes = Object.fromEntries(decisions.rows.map((row) => [row.outcome, Number(row.count)]));

  // ---------------------------------------------------------------- 4. query latency on a million events
  const querySchema = `bench_queries_${suffix}`;
  const queryApi = await startService('api-queries', 'api', { ...baseEnv, DATABASE_SCHEMA: querySchema, KAFKA_CLIENT_ID: 'bench-api-queries' });
  const queryPool = createPool({ url: databaseUrl, schema: querySchema, poolSize: 2, applicationName: 'timeline-bench-queries' });
  onCleanup('bench query pool', () => queryPool.end());
  step(`section 4: generating ${QUERY_EVENTS.toLocaleString('en')} events over ${QUERY_TIMELINES} timelines in ${querySchema}, then timing queries`);
  const queries = await measureQueryLatency(queryApi.url, queryPool, { events: QUERY_EVENTS, timelines: QUERY_TIMELINES, requests: QUERY_REQUESTS });
  await queryApi.stop();

  // ---------------------------------------------------------------- report
  const results = {
    generatedAt: new Date().toISOString(),
    machine,
    settings: {
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      timelines: HTTP_TIMELINES,
      partitions: PARTITIONS,
      groupCommitDefaults: { PRODUCER_LINGER_MS: GROUP_COMMIT_DEFAULTS.lingerMs, PRODUCER_MAX_BATCH: GROUP_COMMIT_DEFAULTS.maxBatch },
      eventBody: EVENT_BODY,
      loadGenerator: 'autocannon (closed loop, one request in flight per connection), same machine',
    },
    httpAppends: http,
    apiRss: { peakKb: apiMemory.peakKb, hwmKb: apiMemory.hwmKb, samples: apiMemory.count },
    projectorRssDuringHttp: { peakKb: projectorMemory.peakKb, hwmKb: projectorMemory.hwmKb },
    groupCommit: {
      connections: top,
      off,
      on,
      ratio: round(on.requestsPerSecond / off.requestsPerSecond, 2),
    },
    replay: { fill, ...replay, outcomes, cpu: replayCpu, relay },
    queries,
    benchSeconds: 0,
  };
  keepLogs = [...http, off, on].some((result) => result.errors > 0 || Object.keys(result.otherStatuses).length > 0) || !replay.completed;
  results.benchSeconds = round((Date.now() - benchStartedAt) / 1000, 1);
  writeFileSync(path.join(REPO_ROOT, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(report(results));
  console.log(queryReport(queries));
}

function queryReport(result: QueryLatencyResult): string {
  const rows = result.queries.map((query) => [query.name, query.latencyMs.p50, query.latencyMs.p99, query.latencyMs.max, query.latencyMs.count]);
  return [
    '',
    `5. Query latency through HTTP on a read model of ${result.events.toLocaleString('en')} events over ${result.timelines} timelines`,
    `   (a tenth revised, so "knownAt" has history; generated in SQL in ${result.loadSeconds} s; sequential requests, light load)`,
    table(['query', 'p50 ms', 'p99 ms', 'max ms', 'requests'], rows),
    `   => worst p99 ${Math.max(...result.queries.map((query) => query.latencyMs.p99))} ms`,
  ].join('\n');
}

const CPU_GROUPS = ['api', 'projector', 'kafka', 'postgres', 'loadgen', 'other'];
/** More than this many cores used by processes the bench did not start: the figures are skewed. */
const OTHER_CPU_WARNING = 0.25;

function report(r: {
  machine: Awaited<ReturnType<typeof machineInfo>>;
  httpAppends: LoadResult[];
  apiRss: { peakKb: number | null; hwmKb: number | null };
  projectorRssDuringHttp: { peakKb: number | null; hwmKb: number | null };
  groupCommit: { connections: number; off: LoadResult; on: LoadResult; ratio: number };
  replay: ReplayResult & {
    fill: FillResult;
    outcomes: Record<string, number>;
    cpu: CpuUse;
    relay: { outboxRows: number; unsentAtCompletion: number } | null;
  };
  benchSeconds: number;
}): string {
  const other = (result: LoadResult) => {
    const parts = Object.entries(result.otherStatuses).map(([status, count]) => `${status}x${count}`);
    if (result.errors) parts.push(`errors x${result.errors}`);
    if (result.timeouts) parts.push(`timeouts x${result.timeouts}`);
    return parts.join(' ') || '0';
  };
  const row = (label: string, result: LoadResult) => [
    label,
    result.requestsPerSecond.toFixed(1),
    result.latencyMs.p50.toFixed(1),
    result.latencyMs.p99.toFixed(1),
    result.latencyMs.max.toFixed(1),
    result.created,
    other(result),
    ...CPU_GROUPS.map((name) => (result.cpu?.[name] ?? 0).toFixed(2)),
  ];
  const headers = ['', 'req/s (201)', 'p50 ms', 'p99 ms', 'max ms', '201s', 'not 201', ...CPU_GROUPS.map((name) => `${name.replace('projector', 'proj.').replace('postgres', 'pg')}`)];
  const { machine: m, httpAppends, groupCommit: g, replay } = r;
  const best = httpAppends.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  const c1 = httpAppends[0];
  const milestones = Object.entries(replay.rss.atProgressKb).map(([at, kb]) => `${at} ${mib(kb)}`).join(', ');
  const contended = [...httpAppends.map((x) => x.cpu), g.off.cpu, g.on.cpu, replay.cpu].some((cpu) => (cpu?.other ?? 0) > OTHER_CPU_WARNING);
  const lines = [
    '',
    `Timeline service benchmark, ${m.date}`,
    `Everything runs on this one machine: load generator (autocannon, closed loop), api, projector, Kafka, PostgreSQL, all on 127.0.0.1.`,
    `CPU columns: cores used during the measured window (${m.cores}.00 = the whole machine); "other" = processes this bench did not start.`,
    ...(contended ? [`WARNING: other processes used more than ${OTHER_CPU_WARNING} cores during some windows (load average ${m.loadAverage1m} at start): figures are skewed low.`] : []),
    '',
    `1. HTTP single-event appends: POST /v1/timelines/{id}/events over ${HTTP_TIMELINES} timelines, 201 only once decided;`,
    `   ${WARMUP_S} s warm-up + ${DURATION_S} s measured per row; group commit on (defaults PRODUCER_LINGER_MS=${GROUP_COMMIT_DEFAULTS.lingerMs}, PRODUCER_MAX_BATCH=${GROUP_COMMIT_DEFAULTS.maxBatch}); latency percentiles of the 201s`,
    table(headers, httpAppends.map((result) => row(`concurrency ${result.connections}`, result))),
    `   api RSS during section 1: peak ${mib(r.apiRss.peakKb)} (VmHWM ${mib(r.apiRss.hwmKb)}); projector peak ${mib(r.projectorRssDuringHttp.peakKb)}`,
    `   => best ${best.requestsPerSecond.toFixed(0)} appends/s at concurrency ${best.connections} (p50 ${best.latencyMs.p50.toFixed(1)} ms, p99 ${best.latencyMs.p99.toFixed(1)} ms); ` +
      `one caller alone: ${c1.requestsPerSecond.toFixed(0)} req/s, ${c1.latencyMs.p50.toFixed(1)} ms p50 (append + decide + project + answer)`,
    '',
    `2. Group commit at concurrency ${g.connections}: a fresh api process for each row, same database, topic and projector`,
    table(headers, [row('off (LINGER_MS=0, MAX_BATCH=1)', g.off), row(`on (defaults: ${GROUP_COMMIT_DEFAULTS.lingerMs} ms, ${GROUP_COMMIT_DEFAULTS.maxBatch})`, g.on)]),
    `   => group commit on/off = ${g.ratio.toFixed(2)}x throughput (${g.off.requestsPerSecond.toFixed(0)} -> ${g.on.requestsPerSecond.toFixed(0)} req/s), ` +
      `p50 ${g.off.latencyMs.p50.toFixed(1)} -> ${g.on.latencyMs.p50.toFixed(1)} ms, p99 ${g.off.latencyMs.p99.toFixed(1)} -> ${g.on.latencyMs.p99.toFixed(1)} ms`,
    '',
    `3. Projector replay: ${replay.fill.recordEvents.toLocaleString('en')} RecordEvent + ${replay.fill.timelines} CreateTimeline commands over ${replay.fill.timelines} timelines ` +
      `(${(replay.fill.bytes / 1024 / 1024).toFixed(1)} MiB of JSON), appended through KafkaCommandLog at ${replay.fill.recordsPerSecond.toLocaleString('en')} records/s;`,
    `   then a fresh projector process (new schema, new consumer group), timed from spawn until its stored offsets reach the end offsets`,
    table(
      ['', 'value'],
      [
        ['commands decided', `${replay.records.toLocaleString('en')}${replay.completed ? '' : ' (NOT COMPLETED in time)'}`],
        ['outcomes', Object.entries(replay.outcomes).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')],
        ['time, spawn to last offset stored', `${replay.totalSeconds} s (start-up to first stored batch ${replay.startupSeconds} s)`],
        ['throughput, including start-up', `${replay.commandsPerSecond.toLocaleString('en')} commands/s`],
        ['throughput, after the first batch', `${replay.steadyCommandsPerSecond.toLocaleString('en')} commands/s`],
        ['projector RSS, peak of 250 ms samples', `${mib(replay.rss.peakKb)} (VmHWM ${mib(replay.rss.hwmKb)}, ${replay.rss.samples} samples)`],
        ['projector RSS at progress', milestones],
        ['CPU (cores)', formatCpu(replay.cpu, ['projector', 'postgres', 'kafka', 'loadgen', 'other'])],
        [
          'outbox relay (same process) at the end',
          replay.relay
            ? `${(replay.relay.outboxRows - replay.relay.unsentAtCompletion).toLocaleString('en')} of ${replay.relay.outboxRows.toLocaleString('en')} changes published to timeline.events`
            : 'n/a',
        ],
      ],
    ),
    `   => replay ${replay.steadyCommandsPerSecond.toLocaleString('en')} commands/s steady, ${replay.commandsPerSecond.toLocaleString('en')}/s including start-up; ` +
      `projector RSS peak ${mib(replay.rss.peakKb)}, ${milestones}`,
    '',
    `4. Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB RAM, load average ${m.loadAverage1m} at start; Node ${m.node}; ` +
      `Kafka ${m.kafka} (KRaft, 1 broker, ${PARTITIONS} partitions); ${m.postgres}`,
    '',
    `bench took ${r.benchSeconds} s (before clean-up); figures also in bench-results.json`,
  ];
  return lines.join('\n');
}

async function machineInfo() {
  const pom = readFileSync(path.join(REPO_ROOT, 'scripts', 'kafka', 'pom.xml'), 'utf8');
  const kafka = process.env.KAFKA_VERSION ?? /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
  const postgres = await admin((client) => client.query<{ server_version: string }>('show server_version')).then(
    (result) => `PostgreSQL ${result.rows[0].server_version.split(' ')[0]}`,
  );
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
    loadAverage1m: round(os.loadavg()[0], 2),
    node: process.version,
    kafka,
    postgres,
  };
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL, application_name: 'timeline-bench-admin' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

const overall = setTimeout(() => {
  console.error(`bench: still running after ${OVERALL_TIMEOUT_MS / 1000} s, giving up`);
  void cleanUp().finally(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);
overall.unref();

main()
  .then(
    () => cleanUp().then(() => 0),
    async (error) => {
      console.error(`bench failed: ${(error as Error).stack ?? error}`);
      keepLogs = true;
      await cleanUp();
      return 1;
    },
  )
  .then((code) => {
    step('cleaned up');
    process.exit(code);
  });
