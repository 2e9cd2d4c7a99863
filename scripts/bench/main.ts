/**
 * `npm run bench`: our figures and the baselines they are held against, all measured in the same run on
 * this machine, and the ratios between them (issue 11: "the bench is the record").
 *
 * Sections, in the order they run (BENCH_SECTIONS=a,b,... runs a subset, e.g. `BENCH_SECTIONS=emmett,raw-pg`;
 * the default is all of them):
 *   appends       HTTP single-event appends at concurrency 1, 16, 64 (201 only once decided); stage means, one caller
 *   subscribers   append -> subscriber latency at half capacity: Kafka timeline.events and the SSE stream
 *   batch         POST /v1/timelines/{id}/events:batch, 100 events per request ("n/a" where the endpoint is missing)
 *   open-load     a fixed offered rate at half and at twice the capacity: latency, and 201/202/503 counted apart
 *   group-commit  the highest concurrency with group commit off (one produce call per request) versus on
 *   emmett        Emmett's PostgreSQL appendToStream at the same concurrencies, in its own database
 *   raw-kafka     a bare kafkajs producer batched as our group commit, at the same concurrencies
 *   kafka-clients our appender over kafkajs and over @confluentinc/kafka-javascript, a figure only (client-comparison.ts)
 *   replay        projector replay of 100,000 RecordEvent commands into a fresh schema, with its RSS
 *   raw-pg        PostgreSQL alone: unnest insert and COPY into our read-model tables, 1,000-row transactions
 *   queries       query latency through HTTP on a generated read model of a million events
 *   replicas      query throughput and p99 under a closed loop, one embedded PostgreSQL alone and then with one
 *                 streaming replica (DATABASE_READ_URLS); its own primary and replica (replica-reads.ts)
 * "Capacity" is the best closed-loop appends/s of `appends` (or, without it, of a short probe at concurrency 64).
 *
 * Everything runs on 127.0.0.1: a throw-away Kafka broker (libs/dev-stack/src/kafka-broker.ts), throw-away
 * databases timeline_bench_<random> (and _emmett), and the api and projector as child processes from dist/.
 * All of it is removed at the end, also on failure or Ctrl-C. Prints a table; writes bench-results.json, and a
 * picture of latency against due time for each open-model load (scripts/bench/tail-recorder.ts; BENCH_TAIL=1 adds
 * what could cause a stall, BENCH_OPEN_LOAD_HALF_ONLY=1 skips the twice-capacity load).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KafkaCommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { createPool } from '@timeline/database';
import { Client, Pool } from 'pg';
import { freePort, REPO_ROOT, RssSampler, type RunningKafkaBroker, ServiceProcess, startKafkaBroker } from '@timeline/dev-stack';
import { measureBatchAppends } from './batch-appends';
import { CpuMeter } from './cpu';
import { measureEmmettAppends } from './emmett';
import { measureAppends, putJson, type LoadResult } from './http-load';
import { offerLoad } from './open-load';
import { measureQueryLatency } from './query-latency';
import { boundOf, ratioOf, type Ratio } from './ratios';
import { measureRawProduce } from './raw-kafka';
import { compareClients } from './client-comparison';
import { measureRawPostgres } from './raw-postgres';
import { measureReplicaReads } from './replica-reads';
import { EVENT_BODY, fillCommandsTopic, timeRebuild, timeReplay, type RebuildResult } from './replay';
import { bestOf, report, worstQueryP99, type BenchResults, type Machine } from './report';
import { scrapeStages, stageMeans } from './stage-metrics';
import { round } from './stats';
import { measureSubscriberLatency, type Arrival } from './subscriber-latency';
import { TailRecorder } from './tail-recorder';
import { runCredentials } from '../auth/run-credentials';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECTIONS = [
  'appends',
  'subscribers',
  'batch',
  'open-load',
  'group-commit',
  'emmett',
  'raw-kafka',
  'kafka-clients',
  'replay',
  'raw-pg',
  'queries',
  'replicas',
] as const;
type Section = (typeof SECTIONS)[number];
const CONCURRENCIES = [1, 16, 64];
const WARMUP_S = 2;
const DURATION_S = 10;
const HTTP_TIMELINES = 8;
const OPEN_LOAD_S = 10;
const CAPACITY_PROBE_S = 5;
/** After an overload, how long the projector may take to work off what was accepted. */
const DRAIN_TIMEOUT_MS = 90_000;
const SUBSCRIBER_DRAIN_MS = 10_000;
const BATCH_EVENTS = 100;
const BATCH_CALLERS = 4;
const REPLAY_TIMELINES = 100;
const REPLAY_RECORD_EVENTS = 100_000;
const REPLAY_TIMEOUT_MS = 180_000;
const RAW_PG_EVENTS = 50_000;
const RAW_PG_BATCH = 1_000;
/** The whole run is bounded: past this, clean up and fail. */
const OVERALL_TIMEOUT_MS = 14 * 60_000;
const PARTITIONS = 3;
const QUERY_EVENTS = 1_000_000;
const QUERY_TIMELINES = 300;
const QUERY_REQUESTS = 300;
/** Smaller than `queries`' read model: the replica's base backup copies it. */
const REPLICA_EVENTS = 200_000;
const REPLICA_TIMELINES = 300;
const REPLICA_CALLERS = 16;
/** The api's group-commit settings when PRODUCER_LINGER_MS and PRODUCER_MAX_BATCH are not set. */
const GROUP_COMMIT_DEFAULTS = TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true' }).producer;
/** Goals of issue 11. */
const GOALS = {
  appendsVsEmmett: 1.0,
  cpuPerAppendVsEmmett: 2.0,
  oneCallerP50Ms: 5,
  halfCapacityP99Ms: 25,
  subscriberP99Ms: 50,
  replayVsUnnest: 1.0,
  batchVsUnnest: 0.5,
  queryP99Ms: 5,
};

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

function selectedSections(): Section[] {
  const asked = process.env.BENCH_SECTIONS?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!asked?.length) return [...SECTIONS];
  const unknown = asked.filter((name) => !(SECTIONS as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`BENCH_SECTIONS: unknown ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
  return SECTIONS.filter((name) => asked.includes(name));
}

async function main(): Promise<void> {
  const sections = selectedSections();
  const runs = (section: Section) => sections.includes(section);
  const machine = await machineInfo();
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'timeline-bench-'));
  onCleanup('logs', async () => {
    if (!keepLogs) rmSync(logDir, { recursive: true, force: true });
    else console.error(`bench: service logs kept in ${logDir}`);
  });
  const results: BenchResults = (collected = {
    generatedAt: new Date().toISOString(),
    machine,
    settings: {
      sections,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      timelines: HTTP_TIMELINES,
      partitions: PARTITIONS,
      groupCommitDefaults: { PRODUCER_LINGER_MS: GROUP_COMMIT_DEFAULTS.lingerMs, PRODUCER_MAX_BATCH: GROUP_COMMIT_DEFAULTS.maxBatch },
      eventBody: EVENT_BODY,
      loadGenerator: 'autocannon (closed loop, one request in flight per connection) and a timer-driven open-model sender, same machine',
    },
    ratios: [],
    benchSeconds: 0,
  });

  const database = await createDatabase('timeline_bench');
  const databaseUrl = urlOf(database);
  const pool = new Pool({ connectionString: databaseUrl, max: 2, application_name: 'timeline-bench' });
  // An idle connection that the server ends (another session's pg_terminate_backend on a shared server) must not end the bench.
  pool.on('error', (error) => console.error(`bench: idle database connection lost: ${error.message}`));
  onCleanup('bench pool', () => pool.end());
  step(`database ${database}`);
  const tail = new TailRecorder({
    enabled: process.env.BENCH_TAIL === '1',
    logDir,
    outputDir: TailRecorder.outputDir(),
    databaseUrl,
    database,
    schema: 'bench_http',
    serverLog: process.env.BENCH_POSTGRES_LOG,
  });
  if (tail.enabled) {
    // The evidence lives in the service logs: keep them.
    keepLogs = true;
    await tail.prepareDatabase();
    process.env.KAFKA_JVM_OPTS = `${process.env.KAFKA_JVM_OPTS ?? ''} ${tail.kafkaJvmOptions()}`.trim();
    step(`tail mode: GC logs, PostgreSQL sampling and the projector's batch lines in ${logDir}`);
  }

  const needsKafka = sections.some((section) => section !== 'emmett' && section !== 'raw-pg');
  let broker: RunningKafkaBroker | null = null;
  if (needsKafka) {
    // The repo's own script (the helper would otherwise find the copy the build puts in dist/).
    process.env.KAFKA_SCRIPT ??= path.join(REPO_ROOT, 'scripts', 'kafka', 'kafka.sh');
    step(`starting a throw-away Kafka broker`);
    const started = await startKafkaBroker();
    broker = started;
    onCleanup('Kafka broker', () => started.stop());
    step(`Kafka on ${started.bootstrap} (pid ${started.pid})`);
  }

  // Which pids count as whose CPU; `current` follows the processes as sections start and stop them.
  const current: { api: number[]; projector: number[] } = { api: [], projector: [] };
  const meter = new CpuMeter(
    () => ({ api: current.api, projector: current.projector, kafka: broker ? [broker.pid] : [], loadgen: [process.pid] }),
    pool,
    database,
  );

  const suffix = randomBytes(4).toString('hex');
  const eventsTopic = `timeline.events.bench-${suffix}`;
  const baseEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: 'bench_http',
    KAFKA_BROKERS: broker?.bootstrap ?? '',
    KAFKA_COMMANDS_TOPIC: `timeline.commands.bench-http-${suffix}`,
    KAFKA_EVENTS_TOPIC: eventsTopic,
    KAFKA_CONSUMER_GROUP: `timeline-projector-bench-http-${suffix}`,
    KAFKA_TOPIC_PARTITIONS: String(PARTITIONS),
    LOG_LEVEL: 'warn',
    ...runCredentials.env,
  };
  const processes: ServiceProcess[] = [];
  onCleanup('service processes', async () => {
    await Promise.all(processes.map((service) => service.stop(10_000)));
  });
  const startService = async (name: string, app: 'api' | 'projector', env: Record<string, string>) => {
    const service = ServiceProcess.spawn(name, app, { ...env, ...tail.serviceEnv(name, app) }, await freePort(), path.join(logDir, `${name}.log`));
    processes.push(service);
    await service.waitReady();
    step(`${name} ready on ${service.url} (pid ${service.pid})`);
    return service;
  };

  // ---------------------------------------------------------------- our HTTP appends, and what rides on them
  const httpSections: Section[] = ['appends', 'subscribers', 'batch', 'open-load', 'group-commit'];
  if (httpSections.some(runs)) {
    const projector = await startService('projector', 'projector', { ...baseEnv, KAFKA_CLIENT_ID: 'bench-projector' });
    current.projector = [projector.pid];
    const timelineIds = Array.from({ length: HTTP_TIMELINES }, (_, index) => `bench-${index + 1}`);
    const paths = timelineIds.map((id) => `/v1/timelines/${id}/events`);
    const body = JSON.stringify(EVENT_BODY);
    const checkAlive = (...services: ServiceProcess[]) => {
      for (const service of services) {
        if (service.exited)
          throw new Error(`${service.name} died during the load (${service.child.exitCode ?? service.child.signalCode}):\n${service.logTail()}`);
      }
    };
    const load = async (api: ServiceProcess, connections: number, warmupS = WARMUP_S) => {
      current.api = [api.pid];
      const result = await measureAppends({ baseUrl: api.url, connections, warmupS, durationS: DURATION_S, paths, body }, meter);
      checkAlive(api, projector);
      return result;
    };

    if (['appends', 'subscribers', 'batch', 'open-load'].some((section) => runs(section as Section))) {
      const api = await startService('api-group-commit-on', 'api', { ...baseEnv, KAFKA_CLIENT_ID: 'bench-api-on' });
      current.api = [api.pid];
      for (const id of timelineIds) {
        const answer = await putJson(`${api.url}/v1/timelines/${id}`, { title: `Benchmark ${id}`, defaultLanguage: 'it' });
        if (answer.status !== 201) throw new Error(`PUT /v1/timelines/${id} answered ${answer.status}: ${answer.text}`);
      }
      await tail.prepareSchema();
      const watched = { api: api.name, projector: projector.name };
      const stagesAround = async <T>(work: () => Promise<T>) => {
        const before = await scrapeStages(api.url, projector.url);
        const result = await work();
        return { result, stages: stageMeans(before, await scrapeStages(api.url, projector.url)) };
      };

      let capacity: { perSecond: number; from: string } | null = null;
      if (runs('appends')) {
        const apiSampler = new RssSampler(api.pid).start();
        const projectorSampler = new RssSampler(projector.pid).start();
        const http: LoadResult[] = [];
        for (const connections of CONCURRENCIES) {
          step(`appends: concurrency ${connections} (${WARMUP_S} s warm-up + ${DURATION_S} s)`);
          if (connections === 1) {
            // The warm-up apart, so that the stage means cover the measured window only.
            await measureAppends({ baseUrl: api.url, connections, warmupS: 0, durationS: WARMUP_S, paths, body });
            const { result, stages } = await stagesAround(() => load(api, connections, 0));
            http.push(result);
            results.oneCallerStages = stages;
          } else {
            http.push(await load(api, connections));
          }
        }
        const apiMemory = apiSampler.stop();
        const projectorMemory = projectorSampler.stop();
        results.httpAppends = http;
        results.apiRss = { peakKb: apiMemory.peakKb, hwmKb: apiMemory.hwmKb, samples: apiMemory.count };
        results.projectorRssDuringHttp = { peakKb: projectorMemory.peakKb, hwmKb: projectorMemory.hwmKb };
        const best = bestOf(http);
        capacity = { perSecond: best.requestsPerSecond, from: `best closed-loop row, concurrency ${best.connections}` };
      }
      const capacityNow = async () => {
        // A before/after pair on a shared machine offers the same rates when both runs are given one capacity.
        const given = Number(process.env.BENCH_CAPACITY_PER_SECOND ?? 0);
        if (!capacity && given > 0) capacity = { perSecond: given, from: 'BENCH_CAPACITY_PER_SECOND' };
        if (!capacity) {
          const top = Math.max(...CONCURRENCIES);
          step(`capacity probe: concurrency ${top}, ${CAPACITY_PROBE_S} s`);
          const probe = await measureAppends({ baseUrl: api.url, connections: top, warmupS: WARMUP_S, durationS: CAPACITY_PROBE_S, paths, body });
          capacity = { perSecond: probe.requestsPerSecond, from: `probe at concurrency ${top}, ${CAPACITY_PROBE_S} s` };
        }
        return capacity;
      };

      if (runs('subscribers')) {
        const rate = (await capacityNow()).perSecond / 2;
        step(`subscribers: ${rate.toFixed(0)} appends/s offered for ${OPEN_LOAD_S} s, watching Kafka ${eventsTopic} and GET /v1/stream`);
        const { result: latency, picture } = await tail.around(
          'subscribers',
          `append -> SSE and -> Kafka at half capacity (${rate.toFixed(0)}/s offered)`,
          watched,
          projector.logFile,
          async (samples) => {
            const arrivals = { kafka: [] as Arrival[], sse: [] as Arrival[] };
            const result = await measureSubscriberLatency({
              baseUrl: api.url,
              paths,
              body,
              ratePerSecond: rate,
              durationS: OPEN_LOAD_S,
              brokers: [broker!.bootstrap],
              eventsTopic,
              drainMs: SUBSCRIBER_DRAIN_MS,
              samples,
              arrivals,
            });
            return {
              result,
              extra: [
                { name: 'change on Kafka timeline.events', colour: '#56b4e9', points: arrivals.kafka },
                { name: 'change on SSE /v1/stream', colour: '#0072b2', points: arrivals.sse },
              ],
            };
          },
        );
        checkAlive(api, projector);
        results.subscriberLatency = { ...latency, offeredPerSecond: round(rate, 1) };
        results.pictures = { ...results.pictures, subscribers: picture };
      }

      if (runs('batch')) {
        step(`batch: ${BATCH_EVENTS} events per request, ${BATCH_CALLERS} callers (${WARMUP_S} s warm-up + ${DURATION_S} s)`);
        results.batchAppends = await measureBatchAppends({
          baseUrl: api.url,
          timelineIds,
          eventBody: EVENT_BODY,
          eventsPerRequest: BATCH_EVENTS,
          callers: BATCH_CALLERS,
          warmupS: WARMUP_S,
          durationS: DURATION_S,
        });
        checkAlive(api, projector);
      }

      if (runs('open-load')) {
        const { perSecond, from } = await capacityNow();
        step(`open-load: ${(perSecond / 2).toFixed(0)}/s offered for ${OPEN_LOAD_S} s`);
        const { result: half, picture: halfPicture } = await tail.around(
          'half',
          `open-model load at half capacity (${(perSecond / 2).toFixed(0)}/s offered)`,
          watched,
          projector.logFile,
          async (samples) => ({
            result: await stagesAround(() => offerLoad({ baseUrl: api.url, paths, body, ratePerSecond: perSecond / 2, durationS: OPEN_LOAD_S, samples })),
          }),
        );
        results.pictures = { ...results.pictures, half: halfPicture };
        step(`open-load: half capacity drawn in ${halfPicture.png}`);
        if (process.env.BENCH_OPEN_LOAD_HALF_ONLY !== '1') {
          step(`open-load: ${(perSecond * 2).toFixed(0)}/s offered for ${OPEN_LOAD_S} s`);
          const { result: double, picture: doublePicture } = await tail.around(
            'double',
            `open-model load at twice capacity (${(perSecond * 2).toFixed(0)}/s offered)`,
            watched,
            projector.logFile,
            async (samples) => ({ result: await offerLoad({ baseUrl: api.url, paths, body, ratePerSecond: perSecond * 2, durationS: OPEN_LOAD_S, samples }) }),
          );
          results.pictures = { ...results.pictures, double: doublePicture };
          checkAlive(api, projector);
          results.openLoad = { capacityPerSecond: perSecond, capacityFrom: from, half: half.result, halfStages: half.stages, double };
        } else {
          results.openLoad = { capacityPerSecond: perSecond, capacityFrom: from, half: half.result, halfStages: half.stages };
        }
        step('open-load: waiting for the projector to work off the overload');
        await waitForQuietDecisions(pool, 'bench_http');
      }
      await api.stop();
    }

    if (runs('group-commit')) {
      const top = Math.max(...CONCURRENCIES);
      const apiOff = await startService('api-group-commit-off', 'api', {
        ...baseEnv,
        KAFKA_CLIENT_ID: 'bench-api-off',
        PRODUCER_LINGER_MS: '0',
        PRODUCER_MAX_BATCH: '1',
      });
      // A run with only this section has no timelines yet.
      for (const id of timelineIds) await putJson(`${apiOff.url}/v1/timelines/${id}`, { title: `Benchmark ${id}`, defaultLanguage: 'it' });
      step(`group-commit: off, concurrency ${top}`);
      const off = await load(apiOff, top);
      await apiOff.stop();
      const apiOnAgain = await startService('api-group-commit-on-2', 'api', { ...baseEnv, KAFKA_CLIENT_ID: 'bench-api-on-2' });
      step(`group-commit: on, concurrency ${top}`);
      const on = await load(apiOnAgain, top);
      await apiOnAgain.stop();
      results.groupCommit = { connections: top, off, on, ratio: round(on.requestsPerSecond / off.requestsPerSecond, 2) };
    }
    await projector.stop();
    current.api = [];
    current.projector = [];
  }

  // ---------------------------------------------------------------- baselines outside our service
  if (runs('emmett')) {
    const emmettDatabase = await createDatabase('timeline_bench_emmett');
    step(`emmett: appendToStream in database ${emmettDatabase}, concurrency ${CONCURRENCIES.join('/')}`);
    results.emmett = await measureEmmettAppends(
      {
        databaseUrl: urlOf(emmettDatabase),
        concurrencies: CONCURRENCIES,
        streams: HTTP_TIMELINES,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        // Emmett's client runs in this process, so "client" is the load generator and Emmett together.
        meter: new CpuMeter(() => ({ client: [process.pid] }), pool, emmettDatabase),
      },
      (callers) => step(`emmett: concurrency ${callers} (${WARMUP_S} s warm-up + ${DURATION_S} s)`),
    );
  }
  if (runs('raw-kafka')) {
    results.rawKafka = await measureRawProduce(
      {
        brokers: [broker!.bootstrap],
        topic: `timeline.commands.bench-raw-${suffix}`,
        partitions: PARTITIONS,
        timelines: HTTP_TIMELINES,
        concurrencies: CONCURRENCIES,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        lingerMs: GROUP_COMMIT_DEFAULTS.lingerMs,
        maxBatch: GROUP_COMMIT_DEFAULTS.maxBatch,
      },
      (callers) => step(`raw-kafka: concurrency ${callers} (${WARMUP_S} s warm-up + ${DURATION_S} s)`),
    );
  }

  if (runs('kafka-clients')) {
    results.kafkaClients = await compareClients(
      {
        brokers: [broker!.bootstrap],
        topicPrefix: `timeline.commands.bench-clients-${suffix}`,
        partitions: PARTITIONS,
        timelines: HTTP_TIMELINES,
        concurrencies: CONCURRENCIES,
        warmupS: WARMUP_S,
        durationS: DURATION_S,
        lingerMs: GROUP_COMMIT_DEFAULTS.lingerMs,
        maxBatch: GROUP_COMMIT_DEFAULTS.maxBatch,
      },
      (client, callers) => step(`kafka-clients: ${client}, concurrency ${callers} (${WARMUP_S} s warm-up + ${DURATION_S} s)`),
    );
  }

  // ---------------------------------------------------------------- projector replay
  if (runs('replay')) {
    const replayTopic = `timeline.commands.bench-replay-${suffix}`;
    const replaySchema = `bench_replay_${suffix}`;
    const log = new KafkaCommandLog({ brokers: [broker!.bootstrap], clientId: 'bench-writer' });
    onCleanup('bench Kafka client', () => log.close());
    step(`replay: appending ${REPLAY_RECORD_EVENTS.toLocaleString('en')} RecordEvent commands to ${replayTopic}`);
    const fill = await fillCommandsTopic(log, { topic: replayTopic, partitions: PARTITIONS, timelines: REPLAY_TIMELINES, recordEvents: REPLAY_RECORD_EVENTS });
    step(`replay: ${fill.records} records in ${fill.seconds} s; starting a fresh projector on schema ${replaySchema}`);
    const replayPort = await freePort();
    const replayAdminPort = await freePort();
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
        ADMIN_PORT: String(replayAdminPort),
      },
      replayPort,
      path.join(logDir, 'projector-replay.log'),
    );
    processes.push(replayProjector);
    current.projector = [replayProjector.pid];
    const replay = await timeReplay(replayProjector, spawnedAt, pool, replaySchema, replayTopic, fill.endOffsets, REPLAY_TIMEOUT_MS);
    const replayCpu = CpuMeter.between(cpuBefore, await meter.snapshot());
    // The outbox relay runs in the projector process too: how far behind it was when the projection finished.
    const relay = await pool
      .query<{ unsent: string; total: string }>(`select count(*) filter (where sent_at is null) as unsent, count(*) as total from "${replaySchema}".outbox`)
      .then(({ rows }) => ({ outboxRows: Number(rows[0].total), unsentAtCompletion: Number(rows[0].unsent) }))
      .catch(() => null);
    step(`replay: ${replay.completed ? 'done' : 'TIMED OUT'} after ${replay.totalSeconds} s`);
    let rebuild: RebuildResult | null = null;
    if (replay.completed) {
      step('replay: the same log again through a zero-downtime rebuild (POST /admin/rebuild)');
      rebuild = await timeRebuild(`http://127.0.0.1:${replayAdminPort}`, runCredentials.authorization, replay.records, REPLAY_TIMEOUT_MS);
      step(`replay: rebuild ${rebuild.state} after ${rebuild.totalSeconds} s`);
    }
    await replayProjector.stop();
    current.projector = [];
    const decisions = await pool.query<{ outcome: string; count: string }>(
      `select outcome, count(*) from "${replaySchema}".decisions group by outcome order by outcome`,
    );
    const outcomes = Object.fromEntries(decisions.rows.map((row) => [row.outcome, Number(row.count)]));
    results.replay = { fill, ...replay, outcomes, cpu: replayCpu, relay, rebuild };
  }

  if (runs('raw-pg')) {
    step(`raw-pg: ${RAW_PG_EVENTS.toLocaleString('en')} events by unnest, then by COPY, ${RAW_PG_BATCH} per transaction`);
    results.rawPostgres = await measureRawPostgres({ databaseUrl, schemaPrefix: `bench_rawpg_${suffix}`, events: RAW_PG_EVENTS, batchSize: RAW_PG_BATCH });
  }

  // ---------------------------------------------------------------- query latency on a million events
  if (runs('queries')) {
    const querySchema = `bench_queries_${suffix}`;
    const queryApi = await startService('api-queries', 'api', { ...baseEnv, DATABASE_SCHEMA: querySchema, KAFKA_CLIENT_ID: 'bench-api-queries' });
    const queryPool = createPool({ url: databaseUrl, schema: querySchema, poolSize: 2, applicationName: 'timeline-bench-queries' });
    onCleanup('bench query pool', () => queryPool.end());
    step(`queries: generating ${QUERY_EVENTS.toLocaleString('en')} events over ${QUERY_TIMELINES} timelines in ${querySchema}, then timing queries`);
    results.queries = await measureQueryLatency(queryApi.url, queryPool, { events: QUERY_EVENTS, timelines: QUERY_TIMELINES, requests: QUERY_REQUESTS });
    await queryApi.stop();
  }

  // ---------------------------------------------------------------- reads past one PostgreSQL
  if (runs('replicas')) {
    results.replicas = await measureReplicaReads(baseEnv, {
      events: REPLICA_EVENTS,
      timelines: REPLICA_TIMELINES,
      callers: REPLICA_CALLERS,
      warmupS: WARMUP_S,
      durationS: DURATION_S,
      startApi: async (name, env) => {
        const api = await startService(name, 'api', env);
        current.api = [api.pid];
        return api;
      },
      step,
      onCleanup,
    });
    current.api = [];
  }

  // ---------------------------------------------------------------- report
  const loads = [...(results.httpAppends ?? []), ...(results.groupCommit ? [results.groupCommit.off, results.groupCommit.on] : [])];
  keepLogs ||= loads.some((result) => result.errors > 0 || Object.keys(result.otherStatuses).length > 0) || results.replay?.completed === false;
  writeReport(results);
}

/** What the sections measured so far; reported also when the run is cut short. */
let collected: BenchResults | null = null;

/** After a failure or the time limit: the sections that finished, marked incomplete. */
function reportWhatFinished(): void {
  if (!collected) return;
  try {
    writeReport({ ...collected, incomplete: true });
  } catch (error) {
    console.error(`bench: could not report the finished sections: ${(error as Error).message}`);
  }
}

function writeReport(results: BenchResults): void {
  results.ratios = ratios(results);
  results.benchSeconds = round((Date.now() - benchStartedAt) / 1000, 1);
  writeFileSync(path.join(REPO_ROOT, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(report(results));
}

/** Every ratio and goal of issue 11 that this run's sections can answer; n/a for the others. */
function ratios(r: BenchResults): Ratio[] {
  const ours = r.httpAppends ? bestOf(r.httpAppends) : null;
  const oneCaller = r.httpAppends?.[0] ?? null;
  const peakOf = (rows: { operationsPerSecond: number; callers: number }[] | undefined) =>
    rows?.length ? rows.reduce((a, b) => (b.operationsPerSecond > a.operationsPerSecond ? b : a)) : null;
  const emmettPeak = peakOf(r.emmett);
  const emmettOneCaller = r.emmett?.find((row) => row.callers === 1) ?? null;
  const kafkaPeak = peakOf(r.rawKafka);
  const unnest = r.rawPostgres?.find((row) => row.method === 'unnest') ?? null;
  const copy = r.rawPostgres?.find((row) => row.method === 'copy') ?? null;
  const replay = r.replay ?? null;
  const batch = r.batchAppends?.available ? r.batchAppends : null;
  const double = r.openLoad?.double;
  const count = (status: number) => double?.statuses[status] ?? 0;
  const fmt = (value: number | null | undefined, unit = '/s') => (value == null ? 'n/a' : `${value.toLocaleString('en')}${unit}`);
  return [
    ratioOf(
      'single-event appends / Emmett appendToStream peak',
      ours?.requestsPerSecond,
      emmettPeak?.operationsPerSecond,
      `ours ${fmt(ours?.requestsPerSecond)} at c=${ours?.connections ?? '?'}, Emmett ${fmt(emmettPeak?.operationsPerSecond)} at c=${emmettPeak?.callers ?? '?'}`,
      GOALS.appendsVsEmmett,
    ),
    boundOf(
      'one caller, p50 of our append',
      oneCaller?.latencyMs.p50,
      GOALS.oneCallerP50Ms,
      `ours ${fmt(oneCaller?.latencyMs.p50, ' ms')}, Emmett one caller ${fmt(emmettOneCaller?.latencyMs.p50, ' ms')}` +
        (oneCaller && emmettOneCaller ? ` (ours/Emmett ${round(oneCaller.latencyMs.p50 / emmettOneCaller.latencyMs.p50, 1)}x)` : ''),
    ),
    ratioOf(
      'replay commands/s / raw unnest rows/s',
      replay?.commandsPerSecond,
      unnest?.rowsPerSecond,
      `replay ${fmt(replay?.commandsPerSecond)} incl. start-up (${fmt(replay?.steadyCommandsPerSecond)} steady), unnest ${fmt(unnest?.rowsPerSecond)}`,
      GOALS.replayVsUnnest,
    ),
    ratioOf(
      'replay commands/s / raw COPY rows/s',
      replay?.commandsPerSecond,
      copy?.rowsPerSecond,
      `replay ${fmt(replay?.commandsPerSecond)}, COPY ${fmt(copy?.rowsPerSecond)}`,
      null,
    ),
    ratioOf(
      'batch-append events/s / raw unnest rows/s',
      batch?.eventsPerSecond,
      unnest?.rowsPerSecond,
      r.batchAppends && !r.batchAppends.available
        ? `n/a (endpoint missing: ${r.batchAppends.status})`
        : `batch ${fmt(batch?.eventsPerSecond)}, unnest ${fmt(unnest?.rowsPerSecond)}`,
      GOALS.batchVsUnnest,
    ),
    ratioOf(
      'single-event appends / raw kafkajs produce',
      ours?.requestsPerSecond,
      kafkaPeak?.operationsPerSecond,
      `ours ${fmt(ours?.requestsPerSecond)}, raw produce ${fmt(kafkaPeak?.operationsPerSecond)} at c=${kafkaPeak?.callers ?? '?'} (the cost of deciding and projecting)`,
      null,
    ),
    boundOf(
      'open-model load at half capacity, p99 of all answers',
      r.openLoad?.half.latencyMs.p99,
      GOALS.halfCapacityP99Ms,
      `offered ${fmt(r.openLoad?.half.offeredPerSecond)}, p50 ${fmt(r.openLoad?.half.latencyMs.p50, ' ms')}`,
    ),
    {
      name: 'past capacity (twice), answers',
      value: double ? count(503) : null,
      from: double
        ? `201 x${count(201)}, 202 x${count(202)}, 503 x${count(503)}, 408 x${count(408)}, no answer x${double.errors}, ` +
          `other x${double.sent - count(201) - count(202) - count(503) - count(408) - double.errors}, max ${fmt(double.latencyMs.max, ' ms')} (value = 503s)`
        : 'n/a',
      goal: 'sheds with 503: every request answered within 5 s, no 408, more 503s than 202s',
      // Shedding means the excess is told at once: a request left without an answer, or cut with a 408, is not shed.
      met: double ? double.errors === 0 && count(408) === 0 && double.latencyMs.max <= 5_000 && count(503) > 0 && count(503) > count(202) : null,
    },
    boundOf(
      'append -> Kafka timeline.events, p99 at half capacity',
      r.subscriberLatency?.kafka.p99,
      GOALS.subscriberP99Ms,
      `p50 ${fmt(r.subscriberLatency?.kafka.p50, ' ms')}, never seen ${r.subscriberLatency?.kafka.missing ?? 'n/a'}`,
    ),
    boundOf(
      'append -> SSE /v1/stream, p99 at half capacity',
      r.subscriberLatency?.sse.p99,
      GOALS.subscriberP99Ms,
      `p50 ${fmt(r.subscriberLatency?.sse.p50, ' ms')}, never seen ${r.subscriberLatency?.sse.missing ?? 'n/a'}`,
    ),
    cpuPerAppendRatio(r),
    boundOf(
      'queries at 1M events, worst p99',
      r.queries ? worstQueryP99(r.queries) : null,
      GOALS.queryP99Ms,
      r.queries ? `worst of ${r.queries.queries.length} query shapes` : 'n/a',
    ),
  ];
}

/**
 * CPU per decided append at c=64 (api, projector, Kafka and PostgreSQL; the load generator left out) against
 * Emmett's per append at c=64 (PostgreSQL and Emmett's client, which shares the load generator's process).
 */
function cpuPerAppendRatio(r: BenchResults): Ratio {
  const name = "CPU per decided append at c=64 / Emmett's";
  const ours = r.httpAppends?.find((row) => row.connections === 64);
  const emmett = r.emmett?.find((row) => row.callers === 64);
  const cores = (cpu: Record<string, number> | undefined, groups: string[]) => groups.reduce((sum, group) => sum + (cpu?.[group] ?? 0), 0);
  if (!ours?.cpu || !emmett?.cpu || !ours.requestsPerSecond || !emmett.operationsPerSecond) {
    return { name, value: null, from: 'n/a', goal: `<= ${GOALS.cpuPerAppendVsEmmett.toFixed(1)}`, met: null };
  }
  const oursMs = (cores(ours.cpu, ['api', 'projector', 'kafka', 'postgres']) / ours.requestsPerSecond) * 1000;
  const emmettMs = (cores(emmett.cpu, ['postgres', 'client']) / emmett.operationsPerSecond) * 1000;
  const value = emmettMs > 0 ? round(oursMs / emmettMs, 2) : null;
  return {
    name,
    value,
    from: `ours ${round(oursMs, 2)} ms of CPU per append, Emmett ${round(emmettMs, 2)} ms`,
    goal: `<= ${GOALS.cpuPerAppendVsEmmett.toFixed(1)}`,
    met: value === null ? null : value <= GOALS.cpuPerAppendVsEmmett,
  };
}

/** After an overload: waits until the projector has stopped deciding (no new decision for 2 s), at most DRAIN_TIMEOUT_MS. */
async function waitForQuietDecisions(pool: Pool, schema: string): Promise<void> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let last = -1;
  for (;;) {
    const { rows } = await pool.query<{ count: string }>(`select count(*) from "${schema}".decisions`);
    const decided = Number(rows[0].count);
    if (decided === last || Date.now() > deadline) return;
    last = decided;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

async function createDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name}`));
  onCleanup(`database ${name}`, () => admin((client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined));
  return name;
}

function urlOf(database: string): string {
  return Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
}

async function machineInfo(): Promise<Machine> {
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
  console.error(`bench: still running after ${OVERALL_TIMEOUT_MS / 1000} s, giving up; the sections that finished follow`);
  keepLogs = true;
  reportWhatFinished();
  void cleanUp().finally(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);
overall.unref();

// A clean-up that fails is an unhandled rejection: Node prints it and exits non-zero, as it should.
void main()
  .then(
    () => cleanUp().then(() => 0),
    async (error) => {
      console.error(`bench failed: ${(error as Error).stack ?? error}`);
      keepLogs = true;
      reportWhatFinished();
      await cleanUp();
      return 1;
    },
  )
  .then((code) => {
    step('cleaned up');
    process.exit(code);
  });
