/**
 * What the chaos scenarios run on, all on this machine and all thrown away afterwards: a Kafka broker
 * (or a three-node KRaft cluster), a PostgreSQL cluster made with initdb (so that restarting it never
 * touches the machine's server) and the streaming replicas a scenario gives it, and, per scenario, a
 * database, topics and the api and projector processes. Clean-ups run newest first, also on failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { Pool } from 'pg';
import { createPool } from '@timeline/database';
import {
  freePort,
  REPO_ROOT,
  type RunningKafkaBroker,
  type RunningKafkaCluster,
  type RunningPostgresCluster,
  type RunningReplica,
  ServiceProcess,
  startKafkaBroker,
  startKafkaCluster,
  startPostgresCluster,
} from '@timeline/dev-stack';
import type { ChaosSettings } from './settings';
import { runCredentials } from '../auth/run-credentials';

type Cleanup = { name: string; run: () => Promise<void> };

export class Cleanups {
  private readonly steps: Cleanup[] = [];

  add(name: string, run: () => Promise<void>): void {
    this.steps.push({ name, run });
  }

  /** Newest first; each step runs even if an earlier one failed. */
  async runAll(log: (message: string) => void): Promise<void> {
    for (const { name, run } of this.steps.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        log(`clean-up of ${name} failed: ${(error as Error).message}`);
      }
    }
  }
}

export interface DeploymentOptions {
  name: string;
  brokers: string[];
  apis: number;
  projectors: number;
  partitions: number;
  replicationFactor?: number;
  /** Streaming replicas of the lab's PostgreSQL: the apis read from them (DATABASE_READ_URLS, in this order). */
  readReplicas?: RunningReplica[];
  env?: Record<string, string>;
}

/** One scenario's service: its database and topics, and its processes, which a scenario kills and restarts. */
export class Deployment {
  readonly apis: ServiceProcess[] = [];
  readonly projectors: ServiceProcess[] = [];
  /** Assertions and the audit read through this (search_path = the service's schema). */
  readonly pool: Pool;
  private readonly cleanups = new Cleanups();
  private readonly clientIds = new Map<ServiceProcess, string>();
  /** Processes the scenario killed on purpose; any other that exited is a finding. */
  readonly killed = new Set<ServiceProcess>();
  private spawned = 0;

  constructor(
    readonly lab: Lab,
    readonly options: DeploymentOptions,
    readonly env: Record<string, string>,
    readonly databaseUrl: string,
  ) {
    this.pool = createPool({ url: databaseUrl, schema: env.DATABASE_SCHEMA, poolSize: 3, applicationName: 'chaos-audit' });
    this.pool.on('error', () => undefined);
  }

  get apiUrls(): string[] {
    return this.apis.map((api) => api.url);
  }

  get commandsTopic(): string {
    return this.env.KAFKA_COMMANDS_TOPIC;
  }

  get eventsTopic(): string {
    return this.env.KAFKA_EVENTS_TOPIC;
  }

  /** Starts the deployment's projectors and apis. */
  async start(): Promise<void> {
    // The first projector creates the topics and applies the migrations; the rest start together.
    this.projectors.push(await this.spawn('projector', 0));
    const [projectors, apis] = await Promise.all([
      Promise.all(Array.from({ length: this.options.projectors - 1 }, (_, index) => this.spawn('projector', index + 1))),
      Promise.all(Array.from({ length: this.options.apis }, (_, index) => this.spawn('api', index))),
    ]);
    this.projectors.push(...projectors);
    this.apis.push(...apis);
  }

  /** SIGKILL of the projector of slot `index`. */
  async killProjector(index: number): Promise<void> {
    const projector = this.projectors[index];
    this.killed.add(projector);
    await projector.kill();
  }

  /** Starts the projector of slot `index` again (killing it first if it runs), with a client id of its own. */
  async restartProjector(index: number): Promise<ServiceProcess> {
    if (!this.projectors[index].exited) await this.killProjector(index);
    this.projectors[index] = await this.spawn('projector', index);
    return this.projectors[index];
  }

  /** Its KAFKA_CLIENT_ID, also its pool's application_name in pg_stat_activity. */
  clientIdOf(service: ServiceProcess): string {
    const id = this.clientIds.get(service);
    if (!id) throw new Error(`${service.name} is not a process of this deployment`);
    return id;
  }

  /** Processes that exited without the scenario killing them. */
  unexpectedExits(): string[] {
    return [...this.apis, ...this.projectors]
      .filter((service) => service.exited && !this.killed.has(service))
      .map((service) => `${service.name} exited (${service.child.exitCode ?? service.child.signalCode})`);
  }

  /** Extra env of one process: a client id of its own, which is also its pool's application_name. */
  private async spawn(app: 'api' | 'projector', index: number, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const generation = this.spawned++;
    const name = `${app}-${index}-${generation}`;
    const clientId = `chaos-${name}`;
    const service = ServiceProcess.spawn(
      `${this.options.name} ${name}`,
      app,
      { ...this.env, KAFKA_CLIENT_ID: clientId, ...extraEnv },
      await freePort(),
      path.join(this.lab.logDir, `${this.options.name}-${name}.log`),
      this.lab.settings.entry,
    );
    this.clientIds.set(service, clientId);
    this.cleanups.add(name, () => service.stop(5_000));
    // Ready = migrated and Kafka reachable; the projector is live before it is ready while it catches up.
    await (app === 'api' ? service.waitReady(90_000) : waitLive(service, 90_000));
    return service;
  }

  /** Another projector on a fresh schema and consumer group, replaying the log from offset 0; its own events topic. */
  async startReplay(schema: string): Promise<ServiceProcess> {
    const service = ServiceProcess.spawn(
      `${this.options.name} replay`,
      'projector',
      {
        ...this.env,
        DATABASE_SCHEMA: schema,
        KAFKA_CONSUMER_GROUP: `${this.env.KAFKA_CONSUMER_GROUP}-replay-${schema}`,
        KAFKA_EVENTS_TOPIC: `${this.env.KAFKA_EVENTS_TOPIC}.replay-${schema}`,
        KAFKA_CLIENT_ID: `chaos-replay-${schema}`,
      },
      await freePort(),
      path.join(this.lab.logDir, `${this.options.name}-replay.log`),
      this.lab.settings.entry,
    );
    this.cleanups.add('replay projector', () => service.stop(5_000));
    await waitLive(service, 90_000);
    return service;
  }

  async stop(): Promise<void> {
    await this.cleanups.runAll(this.lab.log);
    await this.pool.end().catch(() => undefined);
  }
}

async function waitLive(service: ServiceProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.exited) throw new Error(`${service.name} exited during start-up:\n${service.logTail()}`);
    const ok = await fetch(`${service.url}/health/live`, { signal: AbortSignal.timeout(2_000) })
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${service.name} not live after ${timeoutMs} ms:\n${service.logTail()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The machine-level pieces, shared by the scenarios of one run. */
export class Lab {
  readonly logDir = mkdtempSync(path.join(os.tmpdir(), 'timeline-chaos-'));
  broker: RunningKafkaBroker | null = null;
  postgres: RunningPostgresCluster | null = null;
  private readonly cleanups = new Cleanups();
  keepLogs = false;

  constructor(
    readonly settings: ChaosSettings,
    readonly log: (message: string) => void = (message) => console.error(message),
  ) {}

  /** With `withCluster`, the three-node cluster starts now too (before any load, so it skews nothing), for a later `startCluster`. */
  async start({ withCluster = false } = {}): Promise<void> {
    // The repo's own script (the helper would otherwise find the copy the build puts in dist/).
    process.env.KAFKA_SCRIPT ??= path.join(REPO_ROOT, 'scripts', 'kafka', 'kafka.sh');
    this.log(`chaos: logs in ${this.logDir}`);
    this.cleanups.add('logs', async () => {
      if (this.keepLogs) this.log(`chaos: service logs kept in ${this.logDir}`);
      else rmSync(this.logDir, { recursive: true, force: true });
    });
    if (withCluster) this.prepareCluster();
    const [broker, postgres] = await Promise.all([startKafkaBroker({ heap: this.settings.kafkaHeap }), startPostgresCluster(), this.preparedCluster]);
    this.broker = broker;
    this.postgres = postgres;
    this.cleanups.add('Kafka broker', () => broker.stop());
    this.cleanups.add('PostgreSQL cluster', () => postgres.stop());
    this.log(`chaos: Kafka on ${broker.bootstrap} (pid ${broker.pid}); PostgreSQL ${postgres.adminUrl} (data ${postgres.dataDir})`);
  }

  /**
   * A three-node KRaft cluster (replication 3, min.insync.replicas=2), for one scenario; the caller
   * stops it. One started early with `prepareCluster` (while other scenarios run) is handed over.
   */
  async startCluster(): Promise<RunningKafkaCluster> {
    const prepared = this.preparedCluster;
    this.preparedCluster = null;
    const cluster = await (prepared ?? startKafkaCluster({ heap: this.settings.kafkaHeap, nodes: 3, minInsyncReplicas: 2 }));
    this.log(`chaos: Kafka cluster ${cluster.brokers.join(',')}`);
    return cluster;
  }

  /** Starts the cluster in the background, for a later `startCluster`. */
  prepareCluster(): void {
    const starting = startKafkaCluster({ heap: this.settings.kafkaHeap, nodes: 3, minInsyncReplicas: 2 });
    starting.catch(() => undefined);
    this.preparedCluster = starting;
    this.cleanups.add('prepared Kafka cluster', async () => {
      if (this.preparedCluster === starting) await (await starting).stop();
    });
  }

  private preparedCluster: Promise<RunningKafkaCluster> | null = null;

  async deploy(options: DeploymentOptions): Promise<Deployment> {
    if (!this.postgres) throw new Error('lab not started');
    const suffix = randomBytes(3).toString('hex');
    const database = `chaos_${options.name.replaceAll('-', '_')}_${suffix}`;
    const databaseUrl = await this.postgres.createDatabase(database);
    const env: Record<string, string> = {
      DATABASE_URL: databaseUrl,
      DATABASE_SCHEMA: 'timeline',
      KAFKA_BROKERS: options.brokers.join(','),
      KAFKA_COMMANDS_TOPIC: `timeline.commands.${options.name}-${suffix}`,
      KAFKA_EVENTS_TOPIC: `timeline.events.${options.name}-${suffix}`,
      KAFKA_CONSUMER_GROUP: `timeline-projector-${options.name}-${suffix}`,
      KAFKA_TOPIC_PARTITIONS: String(options.partitions),
      KAFKA_REPLICATION_FACTOR: String(options.replicationFactor ?? 1),
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      DECISION_TIMEOUT_MS: String(this.settings.decisionTimeoutMs),
      LOG_LEVEL: 'warn',
      ...runCredentials.env,
      ...options.env,
    };
    // The database, made on the primary a moment ago, reaches the replicas by replication.
    if (options.readReplicas?.length) env.DATABASE_READ_URLS = options.readReplicas.map((replica) => replica.urlOf(database)).join(',');
    const deployment = new Deployment(this, options, env, databaseUrl);
    try {
      await deployment.start();
    } catch (error) {
      this.keepLogs = true;
      await deployment.stop();
      throw error;
    }
    return deployment;
  }

  /**
   * Runs `work` as a command line program: cleans up on SIGINT/SIGTERM, gives up after `overallMs`, keeps the
   * service logs when `work` throws, and exits with its code once everything it started is stopped.
   */
  runToExit(name: string, overallMs: number, work: () => Promise<number>): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`${name}: ${signal}, cleaning up`);
        void this.stop().finally(() => process.exit(130));
      });
    }
    setTimeout(() => {
      console.error(`${name}: still running after ${overallMs / 1000} s, giving up`);
      void this.stop().finally(() => process.exit(1));
    }, overallMs).unref();
    // A clean-up that fails is an unhandled rejection: Node prints it and exits non-zero, as it should.
    void work()
      .catch((error) => {
        console.error(`${name} failed: ${(error as Error).stack ?? error}`);
        this.keepLogs = true;
        return 1;
      })
      .then(async (code) => {
        await this.stop();
        process.exit(code);
      });
  }

  async stop(): Promise<void> {
    await this.cleanups.runAll(this.log);
  }
}

/** A kafkajs admin on `brokers`, for the harness's own look at topics and the consumer group. */
export async function kafkaAdmin(brokers: string[]): Promise<Admin> {
  const admin = new Kafka({ clientId: 'chaos-admin', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } }).admin();
  await admin.connect();
  return admin;
}

/** Creates the timelines (a 202 while the projector joins its group is fine) and waits until each can be read. */
export async function createTimelines(apiUrl: string, timelineIds: string[]): Promise<void> {
  let last = '';
  for (const timelineId of timelineIds) {
    const created = await waitFor(async () => {
      const response = await fetch(`${apiUrl}/v1/timelines/${timelineId}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'idempotency-key': `create-${timelineId}`, ...runCredentials.authorization },
        body: JSON.stringify({ title: `Chaos ${timelineId}`, defaultLanguage: 'it' }),
        signal: AbortSignal.timeout(30_000),
      });
      last = `${response.status} ${await response.text()}`;
      return [200, 201, 202].includes(response.status);
    }, 60_000);
    if (!created) throw new Error(`could not create timeline ${timelineId}: ${last}`);
  }
  for (const timelineId of timelineIds) {
    const readable = await waitFor(
      async () => (await fetch(`${apiUrl}/v1/timelines/${timelineId}`, { signal: AbortSignal.timeout(10_000), headers: runCredentials.authorization })).ok,
      60_000,
    );
    if (!readable) throw new Error(`timeline ${timelineId} was never decided`);
  }
}

/** Polls `condition` until true (true) or `timeoutMs` passes (false); errors count as not yet. */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
