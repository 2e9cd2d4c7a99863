import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/** Every setting, read from the environment once at start-up. README's table lists the same names. */
const environmentSchema = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/timeline'),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase SQL identifier').default('timeline'),
  DATABASE_POOL_SIZE: positiveInt.max(100).default(10),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((list) => list.split(',').map((broker) => broker.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).min(1)),
  KAFKA_CLIENT_ID: z.string().min(1).default('timeline-service'),
  KAFKA_COMMANDS_TOPIC: z.string().min(1).default('timeline.commands'),
  KAFKA_EVENTS_TOPIC: z.string().min(1).default('timeline.events'),
  KAFKA_TOPIC_PARTITIONS: positiveInt.max(1000).default(3),
  KAFKA_REPLICATION_FACTOR: positiveInt.max(10).default(1),
  KAFKA_CONSUMER_GROUP: z.string().min(1).default('timeline-projector'),
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  /** SASL for a production cluster: none, or a mechanism with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD. */
  KAFKA_SASL_MECHANISM: z.enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512']).default('none'),
  KAFKA_SASL_USERNAME: z.string().min(1).optional(),
  KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
  /** TLS to the brokers; KAFKA_SSL_CA_FILE adds a CA (PEM) to the trusted ones, e.g. a private CA. */
  KAFKA_SSL: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  KAFKA_SSL_CA_FILE: z.string().min(1).optional(),
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: port.default(3000),
  PROJECTOR_HTTP_PORT: port.default(3001),
  /** At most 2 MiB: a command must fit in one record of timeline.commands (COMMANDS_MAX_MESSAGE_BYTES). */
  HTTP_BODY_LIMIT_BYTES: positiveInt.max(2 * 1_048_576).default(1_048_576),
  /**
   * Which proxies to believe about the client's address (X-Forwarded-For): unset or `false` for none (the
   * socket's peer is the client), `true` for any, or a comma-separated list of addresses and CIDR ranges.
   * Rate and stream limits count per client address, so behind a proxy this must name the proxy.
   */
  HTTP_TRUST_PROXY: z
    .string()
    .default('false')
    .transform((value): boolean | string => (value === 'true' ? true : value === 'false' ? false : value)),
  /** Longest a client may take to send a whole request (headers and body); 0 for no bound. SSE streams are not bound by it once open. */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** Longest a client may take to send the request's headers; at most HTTP_REQUEST_TIMEOUT_MS when that is set. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(10_000),
  /** How often Node looks for requests past those timeouts: a slow client is cut within the timeout plus this. */
  HTTP_TIMEOUT_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  /** Writes (POST/PUT under /v1) a client may make per second, with bursts of RATE_LIMIT_WRITES_BURST; 0 for no limit. */
  RATE_LIMIT_WRITES_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(0),
  RATE_LIMIT_WRITES_BURST: positiveInt.max(1_000_000).default(1_000),
  /** Expensive queries (README: Limits) a client may make per second, with bursts of RATE_LIMIT_QUERIES_BURST; 0 for no limit. */
  RATE_LIMIT_QUERIES_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(0),
  RATE_LIMIT_QUERIES_BURST: positiveInt.max(1_000_000).default(100),
  /** Clients whose buckets are remembered at most; those unseen longest are forgotten (and start full again). */
  RATE_LIMIT_MAX_CLIENTS: positiveInt.max(10_000_000).default(100_000),
  DECISION_TIMEOUT_MS: positiveInt.max(60_000).default(5_000),
  /**
   * Commands this api process has taken and not yet answered (appending, or waiting for their decision) at
   * most; past it a write is answered 503 `overloaded` before it is appended. 500 is about one second of the
   * decisions two cores make (~470/s single appends): an admitted write is decided well within
   * DECISION_TIMEOUT_MS, and a caller past capacity hears 503 at once instead of a 202 after the wait.
   */
  ADMISSION_MAX_WAITING: positiveInt.max(1_000_000).default(500),
  /** Events of one batch append at most; each counts against ADMISSION_MAX_WAITING. */
  BATCH_MAX_EVENTS: positiveInt.max(10_000).default(100),
    PRODUCER_LINGER_MS: z.coerce.number().int().min(0).max(100).default(0),
  PRODUCER_MAX_BATCH: positiveInt.max(10_000).default(500),
  PRODUCER_MAX_BATCH_BYTES: positiveInt.max(4 * 1_048_576).default(1_048_576),
  /**
   * Appends waiting for the log at most: past it a write is answered 503 at once. Each one also holds an
   * admission slot, so ADMISSION_MAX_WAITING bounds it first; this stays the bound of the producer itself.
   */
  APPEND_MAX_QUEUED: positiveInt.max(1_000_000).default(1_000),
  /** A write the log has not acknowledged within this is answered 503 (Kafka unreachable, or too slow). */
  APPEND_TIMEOUT_MS: positiveInt.max(120_000).default(5_000),
  /** Longest a PostgreSQL statement may run; 0 for none. Migrations are not bound by it. */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  PROJECTOR_MAX_BATCH: positiveInt.max(10_000).default(1_000),
  /** Where callers reach the api; CloudEvents name their source and data schema under it. */
  PUBLIC_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .default('http://127.0.0.1:3000')
    .transform((url) => url.replace(/\/+$/, '')),
  RELAY_BATCH_SIZE: positiveInt.max(10_000).default(500),
  RELAY_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  RELAY_GATHER_MS: z.coerce.number().int().min(0).max(1_000).default(10),
  STREAM_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  STREAM_CLIENT_BUFFER_BYTES: z.coerce.number().int().min(1_024).max(256 * 1_048_576).default(1_048_576),
  /** Open streams of this api process at most; past it a new stream is answered 503 `overloaded`. */
  STREAM_MAX_CLIENTS: positiveInt.max(1_000_000).default(1_000),
  /** Open streams of one client address at most; past it a new stream is answered 429 `rate-limited`. */
  STREAM_MAX_CLIENTS_PER_ADDRESS: positiveInt.max(1_000_000).default(20),
  /** Streams reading history (resuming from an old position) at once at most; one past it waits, see below. */
  STREAM_MAX_CATCH_UPS: positiveInt.max(10_000).default(10),
  /** How long a catch-up past STREAM_MAX_CATCH_UPS waits for a slot before it is answered 503. */
  STREAM_CATCH_UP_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** The projector is ready only while no partition has more undecided records than this. */
  PROJECTOR_READY_MAX_LAG_RECORDS: z.coerce.number().int().min(0).max(1_000_000_000).default(10_000),
  /** Spans are exported only when this names an exporter; trace context is propagated either way. */
  OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp', 'console']).default('none'),
  /** Read by the OTLP exporter itself (default http://localhost:4318); checked here so a typo stops the start. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** Key of the HMAC that signs page cursors; the same on every api instance. Unset: a random key per process. */
  CURSOR_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where bearer tokens' verification keys come from: an identity provider's JWKS, or one public key (PEM, SPKI). */
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_PUBLIC_KEY: z.string().min(1).optional(),
  AUTH_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  /** What a token's `iss` and `aud` must be; required with a key source. */
  AUTH_ISSUER: z.string().min(1).optional(),
  AUTH_AUDIENCE: z.string().min(1).optional(),
  /** Clock skew allowed on `exp` and `nbf`. */
  AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** A public deployment: reads need no token (writes, ops and metrics still do). */
  AUTH_PUBLIC_READ: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  /** The projector's admin listener (POST/GET /admin/rebuild): loopback unless an operator says otherwise. */
  ADMIN_HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_PORT: port.default(3002),
}).superRefine((env, context) => {
  const keySources = (['AUTH_JWKS_URL', 'AUTH_PUBLIC_KEY', 'AUTH_PUBLIC_KEY_FILE'] as const).filter((name) => env[name]);
  if (keySources.length > 1) context.addIssue({ code: 'custom', path: [keySources[1]], message: `set together with ${keySources[0]}: give one key source` });
  if (keySources.length === 0 && !env.AUTH_PUBLIC_READ) {
    context.addIssue({
      code: 'custom',
      path: ['AUTH_JWKS_URL'],
      message: 'no key to verify bearer tokens: set AUTH_JWKS_URL, AUTH_PUBLIC_KEY or AUTH_PUBLIC_KEY_FILE (or AUTH_PUBLIC_READ=true to serve reads only)',
    });
  }
  for (const name of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
    if (keySources.length > 0 && !env[name]) context.addIssue({ code: 'custom', path: [name], message: `required with ${keySources[0]}` });
  }
  const sasl = env.KAFKA_SASL_MECHANISM !== 'none';
  for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
    if (sasl && !env[name]) context.addIssue({ code: 'custom', path: [name], message: `required with KAFKA_SASL_MECHANISM=${env.KAFKA_SASL_MECHANISM}` });
    if (!sasl && env[name]) context.addIssue({ code: 'custom', path: [name], message: 'set, but KAFKA_SASL_MECHANISM is none' });
  }
  if (env.KAFKA_SSL_CA_FILE && !env.KAFKA_SSL) context.addIssue({ code: 'custom', path: ['KAFKA_SSL_CA_FILE'], message: 'set, but KAFKA_SSL is false' });
  if (env.HTTP_REQUEST_TIMEOUT_MS > 0 && env.HTTP_HEADERS_TIMEOUT_MS > env.HTTP_REQUEST_TIMEOUT_MS) {
    context.addIssue({ code: 'custom', path: ['HTTP_HEADERS_TIMEOUT_MS'], message: 'must not exceed HTTP_REQUEST_TIMEOUT_MS' });
  }
  if (env.STREAM_MAX_CLIENTS_PER_ADDRESS > env.STREAM_MAX_CLIENTS) {
    context.addIssue({ code: 'custom', path: ['STREAM_MAX_CLIENTS_PER_ADDRESS'], message: 'must not exceed STREAM_MAX_CLIENTS' });
  }
  // A batch larger than the admission bound could never be admitted.
  if (env.BATCH_MAX_EVENTS > env.ADMISSION_MAX_WAITING) context.addIssue({ code: 'custom', path: ['BATCH_MAX_EVENTS'], message: 'must not exceed ADMISSION_MAX_WAITING' });
});

export type TimelineEnvironment = z.infer<typeof environmentSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

type SaslMechanism = Exclude<TimelineEnvironment['KAFKA_SASL_MECHANISM'], 'none'>;

export interface KafkaSecurity {
  /** One member per mechanism, as the Kafka client types it. */
  sasl?: { [M in SaslMechanism]: { mechanism: M; username: string; password: string } }[SaslMechanism];
  ssl?: true | { ca: string[] };
}

function kafkaSecurity(env: TimelineEnvironment): KafkaSecurity {
  const security: KafkaSecurity = {};
  if (env.KAFKA_SASL_MECHANISM !== 'none') {
    const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = env;
    security.sasl = { mechanism, username: username!, password: password! };
  }
  if (env.KAFKA_SSL) security.ssl = env.KAFKA_SSL_CA_FILE ? { ca: [readCaFile(env.KAFKA_SSL_CA_FILE)] } : true;
  return security;
}

/** The configured public key as PEM, checked to be one: a key that cannot be read stops the start, not the first request. */
function publicKeyPem(env: TimelineEnvironment): string | null {
  let pem = env.AUTH_PUBLIC_KEY ?? null;
  if (env.AUTH_PUBLIC_KEY_FILE) {
    try {
      pem = readFileSync(env.AUTH_PUBLIC_KEY_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError([`AUTH_PUBLIC_KEY_FILE: cannot read ${env.AUTH_PUBLIC_KEY_FILE}: ${(error as Error).message}`]);
    }
  }
  if (pem === null) return null;
  try {
    createPublicKey(pem);
  } catch {
    throw new ConfigError([`${env.AUTH_PUBLIC_KEY_FILE ? 'AUTH_PUBLIC_KEY_FILE' : 'AUTH_PUBLIC_KEY'}: not a PEM public key (SPKI, "-----BEGIN PUBLIC KEY-----")`]);
  }
  return pem;
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`KAFKA_SSL_CA_FILE: cannot read ${file}: ${(error as Error).message}`]);
  }
}

/** The validated settings. Injected by class, so a provider needs no token. */
export class TimelineConfig {
  readonly database: { url: string; schema: string; poolSize: number; statementTimeoutMs: number };
  readonly kafka: {
    brokers: string[];
    clientId: string;
    commandsTopic: string;
    eventsTopic: string;
    partitions: number;
    replicationFactor: number;
    consumerGroup: string;
    sessionTimeoutMs: number;
    /** How the clients authenticate and encrypt: passed to the Kafka client as they are. */
    security: KafkaSecurity;
  };
  readonly http: {
    host: string;
    port: number;
    projectorPort: number;
    bodyLimitBytes: number;
    trustProxy: boolean | string;
    requestTimeoutMs: number;
    headersTimeoutMs: number;
    timeoutCheckIntervalMs: number;
  };
  /** Token buckets per client; `perSecond` 0 is no limit. */
  readonly rateLimits: {
    writes: { perSecond: number; burst: number };
    queries: { perSecond: number; burst: number };
    maxClients: number;
  };
  readonly decisionTimeoutMs: number;
  /** Admission control of writes in this api process (see ADMISSION_MAX_WAITING). */
  readonly admission: { maxWaiting: number; batchMaxEvents: number };
  readonly producer: { lingerMs: number; maxBatch: number; maxBatchBytes: number; maxQueued: number; timeoutMs: number };
  readonly projector: { maxBatch: number; readyMaxLagRecords: number };
  readonly publicBaseUrl: string;
  readonly cursorSecret: string | null;
  readonly relay: { batchSize: number; pollIntervalMs: number; gatherMs: number };
  readonly stream: {
    pollIntervalMs: number;
    heartbeatMs: number;
    clientBufferBytes: number;
    maxClients: number;
    maxClientsPerAddress: number;
    maxCatchUps: number;
    maxCatchUpWaitMs: number;
  };
  readonly logLevel: TimelineEnvironment['LOG_LEVEL'];
  /** Bearer tokens: where their keys come from, what they must say, and whether reads need one. */
  readonly auth: {
    jwksUrl: string | null;
    publicKeyPem: string | null;
    issuer: string | null;
    audience: string | null;
    clockToleranceSeconds: number;
    publicRead: boolean;
  };
  /** The projector's admin listener. */
  readonly admin: { host: string; port: number };
  /** `serviceName` is OTEL_SERVICE_NAME, else `timeline-<app>`. */
  readonly tracing: { exporter: TimelineEnvironment['OTEL_TRACES_EXPORTER']; serviceName?: string };

  constructor(env: TimelineEnvironment) {
    this.database = {
      url: env.DATABASE_URL,
      schema: env.DATABASE_SCHEMA,
      poolSize: env.DATABASE_POOL_SIZE,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    };
    this.kafka = {
      brokers: env.KAFKA_BROKERS,
      clientId: env.KAFKA_CLIENT_ID,
      commandsTopic: env.KAFKA_COMMANDS_TOPIC,
      eventsTopic: env.KAFKA_EVENTS_TOPIC,
      partitions: env.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      consumerGroup: env.KAFKA_CONSUMER_GROUP,
      sessionTimeoutMs: env.KAFKA_SESSION_TIMEOUT_MS,
      security: kafkaSecurity(env),
    };
    this.http = {
      host: env.HTTP_HOST,
      port: env.HTTP_PORT,
      projectorPort: env.PROJECTOR_HTTP_PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      trustProxy: env.HTTP_TRUST_PROXY,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      timeoutCheckIntervalMs: env.HTTP_TIMEOUT_CHECK_INTERVAL_MS,
    };
    this.rateLimits = {
      writes: { perSecond: env.RATE_LIMIT_WRITES_PER_SECOND, burst: env.RATE_LIMIT_WRITES_BURST },
      queries: { perSecond: env.RATE_LIMIT_QUERIES_PER_SECOND, burst: env.RATE_LIMIT_QUERIES_BURST },
      maxClients: env.RATE_LIMIT_MAX_CLIENTS,
    };
    this.decisionTimeoutMs = env.DECISION_TIMEOUT_MS;
    this.admission = { maxWaiting: env.ADMISSION_MAX_WAITING, batchMaxEvents: env.BATCH_MAX_EVENTS };
    this.producer = {
      lingerMs: env.PRODUCER_LINGER_MS,
      maxBatch: env.PRODUCER_MAX_BATCH,
      maxBatchBytes: env.PRODUCER_MAX_BATCH_BYTES,
      maxQueued: env.APPEND_MAX_QUEUED,
      timeoutMs: env.APPEND_TIMEOUT_MS,
    };
    this.projector = { maxBatch: env.PROJECTOR_MAX_BATCH, readyMaxLagRecords: env.PROJECTOR_READY_MAX_LAG_RECORDS };
    this.publicBaseUrl = env.PUBLIC_BASE_URL;
    this.cursorSecret = env.CURSOR_SECRET ?? null;
    this.relay = { batchSize: env.RELAY_BATCH_SIZE, pollIntervalMs: env.RELAY_POLL_INTERVAL_MS, gatherMs: env.RELAY_GATHER_MS };
    this.stream = {
      pollIntervalMs: env.STREAM_POLL_INTERVAL_MS,
      heartbeatMs: env.STREAM_HEARTBEAT_MS,
      clientBufferBytes: env.STREAM_CLIENT_BUFFER_BYTES,
      maxClients: env.STREAM_MAX_CLIENTS,
      maxClientsPerAddress: env.STREAM_MAX_CLIENTS_PER_ADDRESS,
      maxCatchUps: env.STREAM_MAX_CATCH_UPS,
      maxCatchUpWaitMs: env.STREAM_CATCH_UP_WAIT_MS,
    };
    this.logLevel = env.LOG_LEVEL;
    this.tracing = { exporter: env.OTEL_TRACES_EXPORTER, serviceName: env.OTEL_SERVICE_NAME };
    this.auth = {
      jwksUrl: env.AUTH_JWKS_URL ?? null,
      publicKeyPem: publicKeyPem(env),
      issuer: env.AUTH_ISSUER ?? null,
      audience: env.AUTH_AUDIENCE ?? null,
      clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
      publicRead: env.AUTH_PUBLIC_READ,
    };
    this.admin = { host: env.ADMIN_HOST, port: env.ADMIN_PORT };
  }

  /** The same settings on another schema and consumer group: how a rebuild runs a second projector. */
  forReadModel(schema: string, consumerGroup: string): TimelineConfig {
    const copy = Object.create(TimelineConfig.prototype) as TimelineConfig;
    return Object.assign(copy, this, {
      database: { ...this.database, schema },
      kafka: { ...this.kafka, consumerGroup },
    });
  }

  /** Reads and validates the environment; every problem is reported at once. */
  static fromEnvironment(env: Record<string, string | undefined> = process.env): TimelineConfig {
    const blankAsUnset = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
    const parsed = environmentSchema.safeParse(blankAsUnset);
    if (!parsed.success) {
      throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
    }
    return new TimelineConfig(parsed.data);
  }
}

/** For a process's entry point: the configuration, or a clear message and exit code 78 (EX_CONFIG). */
export function configFromEnvironmentOrExit(): TimelineConfig {
  try {
    return TimelineConfig.fromEnvironment();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    process.exit(78);
  }
}
