/**
 * Reads past one PostgreSQL: query throughput and latency of one api against an embedded PostgreSQL alone,
 * then against the same server with one streaming replica (DATABASE_READ_URLS), in the same run and on the
 * same read model, in turns (two rounds each). The load is a closed loop of callers, each asking the query shapes of the `queries`
 * section in turn; how many reads each server answered comes from the api's timeline_reads_total.
 * The primary and its replica are this section's own (libs/dev-stack), whatever BENCH_ADMIN_DATABASE_URL names:
 * only a server we started can be replicated.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPool } from '@timeline/database';
import { type RunningPostgres, type RunningReplica, type ServiceProcess, startEmbeddedPostgres, startEmbeddedReplica } from '@timeline/dev-stack';
import { measureClosedLoop, type ClosedLoopResult } from './closed-loop';
import { queryShapes } from './query-latency';
import { generateReadModel } from './read-model';
import { round } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface ReplicaReadsRun {
  name: string;
  readReplicas: number;
  result: ClosedLoopResult;
  /** timeline_reads_total by server during the measured window (warm-up included). */
  readsByServer: Record<string, number>;
}

export interface ReplicaReadsResult {
  events: number;
  timelines: number;
  callers: number;
  postgres: string;
  shapes: string[];
  runs: ReplicaReadsRun[];
  /** Mean queries/s of the rounds with the replica over that of the rounds with the primary alone. */
  throughputRatio: number;
}

export interface ReplicaReadsOptions {
  events: number;
  timelines: number;
  callers: number;
  warmupS: number;
  durationS: number;
  /** Starts an api with these settings (on top of the bench's) and resolves once it is ready. */
  startApi: (name: string, env: Record<string, string>) => Promise<ServiceProcess>;
  step: (message: string) => void;
  /** Clean-ups run by the bench at its end, also on failure. */
  onCleanup: (name: string, run: () => Promise<void>) => void;
}

const DATABASE = 'timeline_bench_replicas';
const SCHEMA = 'bench_replicas';
const ROTATION_TIMEOUT_MS = 30_000;
const ROUNDS = 2;

/** `timeline_reads_total{server="..."} n` lines of the api's /metrics, by server. */
async function readsByServer(api: ServiceProcess): Promise<Record<string, number>> {
  const response = await fetch(`${api.url}/metrics`, { headers: runCredentials.authorization, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${api.name} /metrics: ${response.status} ${text.slice(0, 200)}`);
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^timeline_reads_total\{[^}]*server="([^"]+)"[^}]*\} (\S+)$/gm)) counts[match[1]] = Number(match[2]);
  return counts;
}

const difference = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(Object.entries(after).map(([server, count]) => [server, count - (before[server] ?? 0)]));

async function waitInRotation(api: ServiceProcess, replica: string): Promise<void> {
  const pattern = new RegExp(`^timeline_read_replica_in_rotation\\{[^}]*replica="${replica}"[^}]*\\} 1$`, 'm');
  const deadline = Date.now() + ROTATION_TIMEOUT_MS;
  for (;;) {
    const response = await fetch(`${api.url}/metrics`, { headers: runCredentials.authorization }).catch(() => null);
    if (response && pattern.test(await response.text())) return;
    if (Date.now() > deadline) throw new Error(`${replica} not in the rotation of ${api.name} within ${ROTATION_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Waits until the replica has replayed everything the primary had written when this was called. */
async function waitCaughtUp(primary: RunningPostgres, replica: RunningReplica): Promise<void> {
  const client = new Client({ connectionString: primary.url });
  await client.connect();
  const { rows } = await client.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn');
  try {
    for (const deadline = Date.now() + 120_000; ;) {
      const behind = await client.query<{ behind: boolean }>('select $1::pg_lsn > $2::pg_lsn as behind', [rows[0].lsn, await replica.replayLsn()]);
      if (!behind.rows[0].behind) return;
      if (Date.now() > deadline) throw new Error(`${replica.name} did not replay up to ${rows[0].lsn} within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await client.end();
  }
}

async function measure(
  api: ServiceProcess,
  paths: string[],
  options: ReplicaReadsOptions,
): Promise<{ result: ClosedLoopResult; reads: Record<string, number> }> {
  const before = await readsByServer(api);
  const result = await measureClosedLoop({
    callers: options.callers,
    warmupS: options.warmupS,
    durationS: options.durationS,
    operation: async (caller, sequence) => {
      const path = paths[(caller + sequence) % paths.length];
      const response = await fetch(`${api.url}${path}`, { headers: runCredentials.authorization, signal: AbortSignal.timeout(10_000) });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
    },
  });
  return { result, reads: difference(await readsByServer(api), before) };
}

export async function measureReplicaReads(baseEnv: Record<string, string>, options: ReplicaReadsOptions): Promise<ReplicaReadsResult> {
  const { step } = options;
  step('replicas: starting an embedded PostgreSQL of this section');
  const primary = await startEmbeddedPostgres();
  options.onCleanup('replicas: embedded PostgreSQL', () => primary.stop());
  const admin = new Client({ connectionString: primary.url });
  await admin.connect();
  await admin.query(`create database ${DATABASE}`);
  await admin.end();
  const databaseUrl = Object.assign(new URL(primary.url), { pathname: `/${DATABASE}` }).toString();
  // One cursor key for both apis, as for instances behind one balancer: the deep page's cursor is made once.
  const env = { ...baseEnv, DATABASE_URL: databaseUrl, DATABASE_SCHEMA: SCHEMA, CURSOR_SECRET: randomBytes(24).toString('hex') };

  const alone = await options.startApi('api-replicas-primary', { ...env, KAFKA_CLIENT_ID: 'bench-api-replicas-primary' });
  const pool = createPool({ url: databaseUrl, schema: SCHEMA, poolSize: 2, applicationName: 'timeline-bench-replicas' });
  options.onCleanup('replicas: pool', () => pool.end());
  step(`replicas: generating ${options.events.toLocaleString('en')} events over ${options.timelines} timelines on PostgreSQL ${primary.version}`);
  const model = await generateReadModel(pool, options.events, options.timelines);
  await pool.query('analyze');
  step('replicas: starting a streaming replica (base backup of the loaded primary)');
  const replica = await startEmbeddedReplica(primary);
  options.onCleanup('replicas: replica', () => replica.stop());
  await waitCaughtUp(primary, replica);

  const shapes = await queryShapes(alone.url, model.knownAtMiddle);
  const paths = shapes.map((shape) => shape.path);
  const withReplica = await options.startApi('api-replicas-replica', {
    ...env,
    KAFKA_CLIENT_ID: 'bench-api-replicas-replica',
    DATABASE_READ_URLS: replica.urlOf(DATABASE),
  });
  await waitInRotation(withReplica, 'replica-0');
  // Both apis up (the idle one costs nothing); the two set-ups take turns, so that a change in what else the
  // machine runs weighs on both alike.
  const setups = [
    { name: 'primary alone', readReplicas: 0, api: alone },
    { name: `primary + ${replica.name}`, readReplicas: 1, api: withReplica },
  ];
  const runs: ReplicaReadsRun[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const setup of setups) {
      step(`replicas: ${setup.name}, round ${round}/${ROUNDS}, ${options.callers} callers (${options.warmupS} s warm-up + ${options.durationS} s)`);
      const { result, reads } = await measure(setup.api, paths, options);
      runs.push({ name: `${setup.name}, round ${round}`, readReplicas: setup.readReplicas, result, readsByServer: reads });
    }
  }
  await Promise.all([alone.stop(), withReplica.stop()]);
  const meanRate = (readReplicas: number) => {
    const rates = runs.filter((run) => run.readReplicas === readReplicas).map((run) => run.result.operationsPerSecond);
    return rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
  };

  return {
    events: options.events,
    timelines: options.timelines,
    callers: options.callers,
    postgres: `PostgreSQL ${primary.version} (embedded)`,
    shapes: shapes.map((shape) => shape.name),
    runs,
    throughputRatio: round(meanRate(1) / meanRate(0), 2),
  };
}
