/**
 * One caller alone: where one append's time goes. For each build named on the command line (a repository
 * root with `dist/` built, default this one), in rounds that alternate the builds so that machine noise
 * falls on all of them alike:
 *   - starts a projector and an api from that build (fresh topic, schema and consumer group),
 *   - sends `--requests` POST /v1/timelines/{id}/events one after another (after `--warmup` more), each
 *     answered 201 only once decided,
 *   - reads the stage histograms (`timeline_api_append_stage_seconds`, `timeline_projector_stage_seconds`)
 *     before and after, and prints each stage's mean over the measured requests,
 *   - times append → subscriber: from sending the request to the change arriving on timeline.events (a
 *     kafkajs consumer) and on GET /v1/stream (one SSE client).
 * With PROFILE_DIR set, both apps run with --cpu-prof and write their profiles there.
 *
 *   npm run build
 *   node dist/scripts/latency/one-caller.js [--requests 500] [--warmup 100] [--rounds 2] [<repo root>[+NAME=value][+async-commit]...]
 *
 * Everything runs on 127.0.0.1: a throw-away Kafka broker and a throw-away database on the server
 * LATENCY_ADMIN_DATABASE_URL names (default postgres://postgres@127.0.0.1:5432/postgres); removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { freePort, REPO_ROOT, SseReader, startKafkaBroker } from '@timeline/dev-stack';
import { runCredentials } from '../auth/run-credentials';

const ADMIN_URL = process.env.LATENCY_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENT_BODY = { kind: 'statement.reported', title: 'Dichiarazione', language: 'it', validTime: '2023-07-12', factuality: 'reported' };
const API_STAGES = ['queued', 'produced', 'notified', 'decision_read'];
const PROJECTOR_STAGES = ['fetch', 'transaction'];

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

const REQUESTS = option('requests', 500);
const WARMUP = option('warmup', 100);
const ROUNDS = option('rounds', 2);
const builds = process.argv.slice(2).filter((arg, index, all) => !arg.startsWith('--') && !all[index - 1]?.startsWith('--'));
if (builds.length === 0) builds.push(REPO_ROOT);

interface App {
  child: ChildProcess;
  url: string;
}

async function startApp(root: string, app: 'api' | 'projector', env: Record<string, string>, logFile: string): Promise<App> {
  const port = await freePort();
  const fd = openSync(logFile, 'a');
  const profile = process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${path.join(process.env.PROFILE_DIR, path.basename(root), app)}`] : [];
  const child = spawn(process.execPath, [...profile, path.join(root, 'dist', 'apps', app, 'src', 'main.js')], {
    cwd: root,
    env: { ...process.env, ADMIN_PORT: '0', ...env, HTTP_HOST: '127.0.0.1', [app === 'api' ? 'HTTP_PORT' : 'PROJECTOR_HTTP_PORT']: String(port) },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`${app} exited: ${readFileSync(logFile, 'utf8').slice(-2_000)}`);
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${app} not ready within 60 s`);
}

async function stopApp(app: App): Promise<void> {
  if (app.child.exitCode !== null || app.child.signalCode !== null) return;
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  app.child.kill('SIGTERM');
  await exited;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...runCredentials.authorization } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** Sum and count of each label value of a histogram in a Prometheus exposition. */
function histogramTotals(text: string, name: string): Map<string, { sum: number; count: number }> {
  const totals = new Map<string, { sum: number; count: number }>();
  for (const match of text.matchAll(new RegExp(`^${name}_(sum|count)\\{stage="(\\w+)"\\} (\\S+)$`, 'gm'))) {
    const entry = totals.get(match[2]) ?? { sum: 0, count: 0 };
    entry[match[1] as 'sum' | 'count'] = Number(match[3]);
    totals.set(match[2], entry);
  }
  return totals;
}

/** Mean of each stage between two scrapes, in ms. */
function stageMeans(before: string, after: string, name: string, stages: string[]): Record<string, number> {
  const [a, b] = [histogramTotals(before, name), histogramTotals(after, name)];
  return Object.fromEntries(
    stages.map((stage) => {
      const count = (b.get(stage)?.count ?? 0) - (a.get(stage)?.count ?? 0);
      const sum = (b.get(stage)?.sum ?? 0) - (a.get(stage)?.sum ?? 0);
      return [stage, count > 0 ? round((sum / count) * 1_000) : NaN];
    }),
  );
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((total, value) => total + value, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), mean: round(mean) };
}

/**
 * A build on the command line: a repository root, then optionally `+NAME=value` settings for both apps and
 * `+async-commit` (a database whose sessions commit with synchronous_commit = off: a measurement only).
 */
function parseBuild(spec: string): { root: string; env: Record<string, string>; asyncCommit: boolean } {
  const [root, ...extras] = spec.split('+');
  const env = Object.fromEntries(extras.filter((extra) => extra.includes('=')).map((extra) => extra.split('=', 2) as [string, string]));
  return { root, env, asyncCommit: extras.includes('async-commit') };
}

async function measure(root: string, extraEnv: Record<string, string>, broker: string, databaseUrl: string, logDir: string) {
  const suffix = randomBytes(4).toString('hex');
  const eventsTopic = `timeline.events.latency-${suffix}`;
  const env = {
    DATABASE_URL: databaseUrl,
    DATABASE_SCHEMA: `latency_${suffix}`,
    KAFKA_BROKERS: broker,
    KAFKA_COMMANDS_TOPIC: `timeline.commands.latency-${suffix}`,
    KAFKA_EVENTS_TOPIC: eventsTopic,
    KAFKA_CONSUMER_GROUP: `timeline-projector-latency-${suffix}`,
    LOG_LEVEL: 'warn',
    ...runCredentials.env,
    ...extraEnv,
  };
  const projector = await startApp(root, 'projector', env, path.join(logDir, `projector-${suffix}.log`));
  const api = await startApp(root, 'api', env, path.join(logDir, `api-${suffix}.log`));
  const kafka = new Kafka({ brokers: [broker], clientId: 'latency-subscriber', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `latency-subscriber-${suffix}`, maxWaitTimeInMs: 100 });
  try {
    const timelineId = `latency-${suffix}`;
    const created = await fetch(`${api.url}/v1/timelines/${timelineId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...runCredentials.authorization },
      body: JSON.stringify({ title: 'Latenza', defaultLanguage: 'it' }),
    });
    if (created.status !== 201) throw new Error(`PUT timeline answered ${created.status}`);

    const sentAt = new Map<string, number>();
    const toKafka: number[] = [];
    const toStream: number[] = [];
    let measuring = false;
    await consumer.connect();
    await consumer.subscribe({ topic: eventsTopic, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const at = performance.now();
        const sent = sentAt.get(String(message.headers?.ce_subject ?? ''));
        if (measuring && sent !== undefined) toKafka.push(at - sent);
      },
    });
    const stream = await SseReader.open(`${api.url}/v1/stream?timelineId=${timelineId}`, runCredentials.authorization);
    let streamed = 0;
    const streamWatch = setInterval(() => {
      const at = performance.now();
      for (; streamed < stream.messages.length; streamed += 1) {
        const message = stream.messages[streamed];
        if (message.event !== undefined) continue;
        const sent = sentAt.get((JSON.parse(message.data) as { subject: string }).subject);
        if (measuring && sent !== undefined) toStream.push(at - sent);
      }
    }, 0);

    const path_ = `${api.url}/v1/timelines/${timelineId}/events`;
    const run = async (count: number) => {
      const latencies: number[] = [];
      for (let n = 0; n < count; n += 1) {
        const eventId = randomUUID();
        const body = JSON.stringify({ ...EVENT_BODY, eventId, title: `Dichiarazione ${n}` });
        const started = performance.now();
        sentAt.set(eventId, started);
        const status = await post(path_, body);
        latencies.push(performance.now() - started);
        if (status !== 201) throw new Error(`POST answered ${status}`);
      }
      return latencies;
    };
    await run(WARMUP);
    // Let the warm-up's changes reach the subscribers before counting.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const scrape = () =>
      Promise.all([api, projector].map((app) => fetch(`${app.url}/metrics`, { headers: runCredentials.authorization }).then((r) => r.text())));
    const [apiBefore, projectorBefore] = await scrape();
    measuring = true;
    const started = performance.now();
    const latencies = await run(REQUESTS);
    const seconds = (performance.now() - started) / 1_000;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    measuring = false;
    const [apiAfter, projectorAfter] = await scrape();
    clearInterval(streamWatch);
    await stream.close();
    return {
      requestsPerSecond: round(REQUESTS / seconds, 1),
      latencyMs: summary(latencies),
      apiStagesMs: stageMeans(apiBefore, apiAfter, 'timeline_api_append_stage_seconds', API_STAGES),
      projectorStagesMs: stageMeans(projectorBefore, projectorAfter, 'timeline_projector_stage_seconds', PROJECTOR_STAGES),
      toKafkaMs: summary(toKafka),
      toStreamMs: summary(toStream),
    };
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await stopApp(api);
    await stopApp(projector);
  }
}

async function main(): Promise<void> {
  process.env.KAFKA_SCRIPT ??= path.join(REPO_ROOT, 'scripts', 'kafka', 'kafka.sh');
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'timeline-latency-'));
  const broker = await startKafkaBroker({ startTimeoutMs: 240_000 });
  const database = `timeline_latency_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${database}`);
  await admin(`create database ${database}_async`);
  await admin(`alter database ${database}_async set synchronous_commit = off`);
  const databaseUrl = (name: string) => Object.assign(new URL(ADMIN_URL), { pathname: `/${name}` }).toString();
  const stop = async () => {
    for (const name of [database, `${database}_async`]) {
      await admin(`drop database if exists ${name} with (force)`).catch((error: Error) => console.error(`drop database: ${error.message}`));
    }
    await broker.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  try {
    console.error(`logs in ${logDir}; ${ROUNDS} round(s) of ${REQUESTS} requests after ${WARMUP} warm-up, builds: ${builds.join(', ')}`);
    for (let round_ = 1; round_ <= ROUNDS; round_ += 1) {
      for (const spec of builds) {
        const { root, env, asyncCommit } = parseBuild(spec);
        const result = await measure(root, env, broker.bootstrap, databaseUrl(asyncCommit ? `${database}_async` : database), logDir);
        console.log(JSON.stringify({ round: round_, build: spec, ...result }));
      }
    }
  } finally {
    await stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
