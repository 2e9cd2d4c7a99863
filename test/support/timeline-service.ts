import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { createApiApp } from '../../apps/api/src/api.app';
import { createProjectorApp } from '../../apps/projector/src/projector.app';
import { KafkaCommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { ConsumerOffsetsRepository, createPool } from '@timeline/database';
import type { Pool } from 'pg';
import { expectEventually } from './eventually';
import { freePort } from '@timeline/dev-stack';
import { HttpClient } from './http-client';
import { createTestDatabase, type TestDatabase } from './test-database';
import { authEnv } from './tokens';

const REPO_ROOT = path.resolve(__dirname, '../..');

export interface TestServiceOptions {
  /** `process`: the projector runs as a child process that a test can SIGKILL. */
  projector?: 'in-process' | 'process' | 'none';
  /** Another broker than the run's shared one (a test that stops its broker brings its own). */
  brokers?: string;
  /** Another PostgreSQL server than the run's shared one (a test that stops its server brings its own). */
  postgresUrl?: string;
  /** How the apps reach the test database, e.g. through a proxy a test can cut. */
  databaseUrl?: (direct: string) => string;
  /** DATABASE_READ_URLS of the apps, given the name of the database the service gets (its replicas' copies of it). */
  readReplicaUrls?: (databaseName: string) => string[];
  env?: Record<string, string>;
}

/**
 * The api and the projector against the run's Kafka broker and a database of
 * this test file's own, with topics and a consumer group no other file uses.
 */
export class TestTimelineService {
  readonly http: HttpClient;
  /** Every route the api registered, as Fastify saw it (`GET /v1/events/:eventId`); HEAD routes left out. */
  readonly apiRoutes: { method: string; url: string }[] = [];
  private projectorApp: NestFastifyApplication | null = null;

  /** The api's Fastify instance, for what a test reads of the process itself (its event-loop samples). */
  get apiServer(): FastifyInstance {
    return this.api.getHttpAdapter().getInstance();
  }

  /** The in-process projector, for what a test asks of it directly (its admin endpoints, through `inject`). */
  get projector(): NestFastifyApplication {
    if (!this.projectorApp) throw new Error('no in-process projector is running');
    return this.projectorApp;
  }
  private projectorProcess: ChildProcess | null = null;

  private constructor(
    readonly env: Record<string, string>,
    readonly config: TimelineConfig,
    readonly database: TestDatabase,
    private readonly api: NestFastifyApplication,
    baseUrl: string,
    /** Read-model assertions run through this pool (search_path = the service's schema). */
    readonly pool: Pool,
    /** Our own Kafka interface, for what a test must write to the log directly. */
    readonly log: KafkaCommandLog,
  ) {
    this.http = new HttpClient(baseUrl);
  }

  static async start(options: TestServiceOptions = {}): Promise<TestTimelineService> {
    const brokers = options.brokers ?? process.env.TEST_KAFKA_BROKERS;
    if (!brokers) throw new Error('TEST_KAFKA_BROKERS is not set: run through jest, whose global setup starts a broker');
    const database = await createTestDatabase(options.postgresUrl);
    const suffix = randomBytes(4).toString('hex');
    const env: Record<string, string> = {
      DATABASE_URL: options.databaseUrl?.(database.url) ?? database.url,
      KAFKA_BROKERS: brokers,
      KAFKA_COMMANDS_TOPIC: `timeline.commands.${suffix}`,
      KAFKA_EVENTS_TOPIC: `timeline.events.${suffix}`,
      KAFKA_CONSUMER_GROUP: `timeline-projector-${suffix}`,
      KAFKA_CLIENT_ID: `test-${suffix}`,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      HTTP_PORT: '0',
      PROJECTOR_HTTP_PORT: '0',
      LOG_LEVEL: 'error',
      // The api runs in the test's own process, so its event loop also carries the test, its other services and
      // their clients: how late it runs says nothing of the api's load, and shedding on it makes any test flaky
      // (a stream test's 503 on a loaded machine). test/load-shedding.e2e.spec.ts turns it on for itself.
      SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
      ...(options.readReplicaUrls ? { DATABASE_READ_URLS: options.readReplicaUrls(database.name).join(',') } : {}),
      ...authEnv(),
      ...options.env,
    };
    const config = TimelineConfig.fromEnvironment(env);
    const api = await createApiApp(config);
    const apiRoutes: { method: string; url: string }[] = [];
    // Routes are added when the app initialises (in listen), after this hook.
    api
      .getHttpAdapter()
      .getInstance()
      .addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) if (method !== 'HEAD') apiRoutes.push({ method, url: route.url });
      });
    await api.listen(0, '127.0.0.1');
    const pool = createPool({ ...config.database, poolSize: 4, applicationName: 'test-assertions' });
    const log = new KafkaCommandLog({ brokers: config.kafka.brokers, clientId: `test-writer-${suffix}`, security: config.kafka.security });
    const service = new TestTimelineService(env, config, database, api, await api.getUrl(), pool, log);
    service.apiRoutes.push(...apiRoutes);
    const mode = options.projector ?? 'in-process';
    if (mode === 'in-process') await service.startProjectorInProcess();
    if (mode === 'process') await service.startProjectorProcess();
    return service;
  }

  async startProjectorInProcess(overrides: Record<string, string> = {}): Promise<NestFastifyApplication> {
    const app = await createProjectorApp(TimelineConfig.fromEnvironment({ ...this.env, ...overrides }));
    if (Object.keys(overrides).length === 0) this.projectorApp = app;
    return app;
  }

  /** Closes the in-process projector (its shutdown hooks run): decisions stop until it starts again. */
  async stopProjectorInProcess(): Promise<void> {
    await this.projectorApp?.close();
    this.projectorApp = null;
  }

  /** Starts the projector as its own process, as in production, and waits for its health endpoint. */
  async startProjectorProcess(): Promise<void> {
    const port = await freePort();
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/projector/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...this.env, PROJECTOR_HTTP_PORT: String(port), ADMIN_PORT: '0', SWC_NODE_PROJECT: 'tsconfig.json' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.projectorProcess = child;
    await expectEventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`projector exited with ${child.exitCode}`);
        const response = await fetch(`http://127.0.0.1:${port}/health/live`);
        if (!response.ok) throw new Error(`projector health ${response.status}`);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  /** SIGKILL: no shutdown hook runs, no transaction in flight commits. */
  async killProjectorProcess(): Promise<void> {
    const child = this.projectorProcess;
    if (!child || child.exitCode !== null) throw new Error('no projector process is running');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.projectorProcess = null;
  }

  /** Waits until the projector has decided everything appended so far. */
  async waitForProjection(timeoutMs = 30_000): Promise<void> {
    const ends = await this.log.endOffsets(this.config.kafka.commandsTopic);
    await expectEventually(
      async () => {
        const stored = await new ConsumerOffsetsRepository(this.pool).nextOffsets(this.config.kafka.commandsTopic);
        for (const [partition, end] of ends) {
          if ((stored.get(partition) ?? 0) < end) throw new Error(`partition ${partition} at ${stored.get(partition) ?? 0} of ${end}`);
        }
      },
      { timeoutMs },
    );
  }

  /** Runs every step even when one fails (then throws its error): a step left out keeps sockets open and Jest from exiting. */
  async stop(): Promise<void> {
    this.projectorProcess?.kill('SIGKILL');
    const steps = [() => this.projectorApp?.close(), () => this.api.close(), () => this.log.close(), () => this.pool.end(), () => this.database.drop()];
    const errors: unknown[] = [];
    for (const step of steps)
      await Promise.resolve()
        .then(step)
        .catch((error: unknown) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  }
}
