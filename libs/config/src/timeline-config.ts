import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/**
 * Every setting, read from the environment once at start-up. Each one's `describe()` text is what
 * docs/configuration.md says of it: that file is generated from this schema (`npm run docs:config`).
 */
export const environmentSchema = z
  .object({
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/ })
      .default('postgres://postgres@127.0.0.1:5432/timeline')
      .describe(
        'PostgreSQL; the database is created if missing. `npm start` without it starts the embedded server and sets it. TLS settings in it (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`) are honoured by the client as written (`pg`; `sslmode=require` also verifies the certificate).',
      ),
    DATABASE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lowercase SQL identifier')
      .default('timeline')
      .describe('Schema of the read models (a rebuild uses another, then renames it).'),
    DATABASE_POOL_SIZE: positiveInt.max(100).default(10).describe('PostgreSQL connections per process.'),
    DATABASE_STATEMENT_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(60_000)
      .describe(
        'Longest a PostgreSQL statement may run (`0`: no limit); migrations are not bound by it. A projector batch that hits it is retried (failure class `timeout`).',
      ),
    DATABASE_READ_URLS: z
      .string()
      .optional()
      .transform((list = '') =>
        list
          .split(',')
          .map((url) => url.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ protocol: /^postgres(ql)?$/, message: 'must be a list of postgres:// URLs' })).max(16))
      .describe(
        "Comma-separated PostgreSQL URLs of streaming read replicas of `DATABASE_URL`'s server (same database name and schema), named `replica-0`, `replica-1`, … in this order. Queries (timelines, events, search, the stream's catch-up, the ops page's counts) read from a replica in rotation; decisions, idempotency, the projector, the relay, migrations, rebuilds and admin stay on the primary. Empty: everything reads from the primary.",
      ),
    READ_REPLICA_MAX_LAG_SECONDS: z.coerce
      .number()
      .min(0)
      .max(3_600)
      .default(5)
      .describe(
        'A replica whose replay is further behind than this (seconds) leaves the rotation; it comes back by itself when under this and `READ_REPLICA_MAX_LAG_BYTES` again.',
      ),
    READ_REPLICA_MAX_LAG_BYTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 50)
      .default(16_777_216)
      .describe("A replica whose replay position is more than this many bytes of WAL behind the primary's leaves the rotation (an unreachable one too)."),
    READ_REPLICA_CHECK_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(50)
      .max(60_000)
      .default(1_000)
      .describe("How often each replica's replay position and lag are sampled."),
    READ_CONSISTENCY_WAIT_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(100)
      .describe('How long a read carrying a `Consistency-Token` waits for a replica in rotation to replay up to the token before it reads from the primary.'),
    KAFKA_BROKERS: z
      .string()
      .default('127.0.0.1:9092')
      .transform((list) =>
        list
          .split(',')
          .map((broker) => broker.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port')).min(1))
      .describe('Comma-separated `host:port` of the brokers; `npm start` starts a local broker when it is unset.'),
    KAFKA_CLIENT_ID: z.string().min(1).default('timeline-service').describe('Kafka client id.'),
    KAFKA_COMMANDS_TOPIC: z
      .string()
      .min(1)
      .default('timeline.commands')
      .describe(
        'The command log, the system of record; created at start-up if missing (infinite retention, `LogAppendTime`, `max.message.bytes` 5 MiB). An existing topic is checked at start-up: a setting that could lose or refuse records (retention, compaction, timestamp type, a smaller message limit, fewer replicas than `KAFKA_REPLICATION_FACTOR`, `min.insync.replicas` below 2 with 3 replicas) stops the process with a message naming each.',
      ),
    KAFKA_EVENTS_TOPIC: z
      .string()
      .min(1)
      .default('timeline.events')
      .describe('Topic of accepted changes, as CloudEvents; created at start-up if missing (infinite retention, delete policy).'),
    KAFKA_TOPIC_PARTITIONS: positiveInt.max(1000).default(3).describe('Partitions of the topics created at start-up.'),
    KAFKA_REPLICATION_FACTOR: positiveInt.max(10).default(1).describe('Replication of the topics created at start-up (3 in production).'),
    KAFKA_CONSUMER_GROUP: z
      .string()
      .min(1)
      .default('timeline-projector')
      .describe("The projector's consumer group (membership only: offsets live in PostgreSQL)."),
    KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000).describe('How long a crashed projector holds its partitions.'),
    KAFKA_SASL_MECHANISM: z
      .enum(['none', 'plain', 'scram-sha-256', 'scram-sha-512'])
      .default('none')
      .describe(
        'SASL for a cluster that authenticates clients; with a mechanism, `KAFKA_SASL_USERNAME` and `KAFKA_SASL_PASSWORD` are required (and refused without one). Every Kafka client of both apps uses them.',
      ),
    KAFKA_SASL_USERNAME: z.string().min(1).optional().describe('SASL user name; only with `KAFKA_SASL_MECHANISM`.'),
    KAFKA_SASL_PASSWORD: z.string().min(1).optional().describe('SASL password; only with `KAFKA_SASL_MECHANISM`.'),
    KAFKA_SSL: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true')
      .describe("`true`: TLS to the brokers, verified against the system's CAs (and `KAFKA_SSL_CA_FILE`'s). Client certificates (mTLS) are not supported."),
    KAFKA_SSL_CA_FILE: z
      .string()
      .min(1)
      .optional()
      .describe('A PEM file, read at start-up, whose CA is trusted beside the system ones (e.g. a private CA); only with `KAFKA_SSL=true`.'),
    HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('Listen address of both apps.'),
    HTTP_PORT: port.default(3000).describe("The api's port."),
    PROJECTOR_HTTP_PORT: port.default(3001).describe("The projector's health and metrics port."),
    HTTP_BODY_LIMIT_BYTES: positiveInt
      .max(2 * 1_048_576)
      .default(1_048_576)
      .describe('Larger bodies are answered `413`. At most 2 MiB, so that a command fits one record of the command log.'),
    HTTP_TRUST_PROXY: z
      .string()
      .default('false')
      .transform((value): boolean | string => (value === 'true' ? true : value === 'false' ? false : value))
      .describe(
        "Which proxies' `X-Forwarded-For` names the client, for the per-client limits: `false` none (the socket's peer is the client), `true` any, or a comma-separated list of addresses and CIDR ranges. Behind a proxy this must name it, or every anonymous caller counts as the proxy.",
      ),
    HTTP_REQUEST_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(30_000)
      .describe(
        'Longest a client may take to send a whole request, body included (`0`: no bound); past it `408` and the connection is closed. Open streams are not bound by it.',
      ),
    HTTP_HEADERS_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1_000)
      .max(3_600_000)
      .default(10_000)
      .describe("Longest a client may take to send the request's headers; at most `HTTP_REQUEST_TIMEOUT_MS` when that is set."),
    HTTP_LISTEN_BACKLOG: positiveInt
      .max(65_535)
      .default(4_096)
      .describe(
        "Connections the kernel holds for the api before it accepts them (the listen backlog; Linux caps it at `net.core.somaxconn`). Past it a new connection's SYN is dropped and retried by the client after 1, 3, 7, 15 s: answers tens of seconds late, and resets. Node's default is 511; a burst of new connections past capacity fills that within one late turn of the event loop.",
      ),
    HTTP_TIMEOUT_CHECK_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(5_000)
      .describe('How often Node looks for requests past those two timeouts: a slow client is cut within the timeout plus this.'),
    RATE_LIMIT_WRITES_PER_SECOND: z.coerce
      .number()
      .min(0)
      .max(1_000_000)
      .default(0)
      .describe('Writes (`POST`/`PUT` under `/v1`) a client may make per second (`0`: no limit); past it `429 rate-limited` (see [Limits](api.md#limits)).'),
    RATE_LIMIT_WRITES_BURST: positiveInt.max(1_000_000).default(1_000).describe('Writes a client may make at once, on top of the rate.'),
    RATE_LIMIT_QUERIES_PER_SECOND: z.coerce
      .number()
      .min(0)
      .max(1_000_000)
      .default(0)
      .describe('Expensive queries (`q`, `actor` across timelines, TimelineJS exports, histograms) a client may make per second (`0`: no limit).'),
    RATE_LIMIT_QUERIES_BURST: positiveInt.max(1_000_000).default(100).describe('Expensive queries a client may make at once, on top of the rate.'),
    RATE_LIMIT_MAX_CLIENTS: positiveInt
      .max(10_000_000)
      .default(100_000)
      .describe('Clients whose buckets are kept; those unseen longest are forgotten (and start again with a full bucket).'),
    DECISION_TIMEOUT_MS: positiveInt.max(60_000).default(5_000).describe('How long a write waits for its decision before it is answered `202`.'),
    // 500 is about one second of the decisions two cores make (~470/s single appends): an admitted write is
    // decided well within DECISION_TIMEOUT_MS, and a caller past capacity hears 503 at once, not a 202 later.
    ADMISSION_MAX_WAITING: positiveInt
      .max(1_000_000)
      .default(500)
      .describe(
        'Commands an api process holds at most (appending, or waiting for their decision; each event of a batch counts); past it a write is answered `503 overloaded` before it is appended. About one second of decisions on two cores.',
      ),
    // Past capacity the api's own CPU saturates and requests wait in the kernel before any handler runs, where
    // admission cannot see them, for as long as the event loop runs late; these refuse them early, with 503.
    SHED_MAX_EVENT_LOOP_DELAY_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(100)
      .describe(
        "Load shedding: once the api's event loop has run later than this (the mean delay over a `SHED_SAMPLE_INTERVAL_MS` sample) in two samples in a row, every request but `/health/*` and `/metrics` is answered `503 overloaded` with `Retry-After` before anything is done, until a sample is on time again; a single late sample (one stall) refuses nothing, unless requests were refused within the last 8 samples (`0`: off). See [Limits](api.md#limits).",
      ),
    SHED_MAX_EVENT_LOOP_UTILIZATION: z.coerce
      .number()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "Load shedding: when the event loop's utilisation in a sample is above this fraction, the sample counts as late, as for the delay (`0`: off; a busy loop is not yet a late one, so the delay is the default signal).",
      ),
    SHED_SAMPLE_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(10)
      .max(10_000)
      .default(250)
      .describe(
        'Load shedding: how often the event-loop delay and utilisation are sampled; shedding starts after two late samples in a row (after one, within 8 samples of the last refusal) and stops after one on time.',
      ),
    BATCH_MAX_EVENTS: positiveInt
      .max(10_000)
      .default(100)
      .describe('Most events in one `events:batch` request (more: `413`); at most `ADMISSION_MAX_WAITING`.'),
    PRODUCER_LINGER_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'Group commit: how long an append that finds no produce call in flight waits for others to share its call (`0`: it leaves at once, with the appends of the same event-loop turn). Appends arriving while a call is in flight always share the next one.',
      ),
    PRODUCER_MAX_BATCH: positiveInt.max(10_000).default(500).describe('Group commit: most records per produce call.'),
    PRODUCER_MAX_BATCH_BYTES: positiveInt
      .max(4 * 1_048_576)
      .default(1_048_576)
      .describe('Group commit: most bytes per produce call (a larger record goes alone).'),
    APPEND_MAX_QUEUED: positiveInt
      .max(1_000_000)
      .default(1_000)
      .describe(
        'Records waiting for the next produce call at most; past it a write is answered `503 overloaded` at once, so memory stays bounded while Kafka is away. Every queued record holds an admission slot, so `ADMISSION_MAX_WAITING` bounds it first.',
      ),
    APPEND_TIMEOUT_MS: positiveInt
      .max(120_000)
      .default(5_000)
      .describe(
        'A write Kafka has not acknowledged within this is answered `503` with `Retry-After` (a record still waiting is never sent; one in flight may have been recorded, and the answer says so, with its `commandId`).',
      ),
    PROJECTOR_MAX_BATCH: positiveInt.max(10_000).default(1_000).describe('Most records per projector transaction.'),
    PROJECTOR_READY_MAX_LAG_RECORDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .default(10_000)
      .describe('The projector is ready only while no partition has more undecided records than this.'),
    PUBLIC_BASE_URL: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:3000')
      .transform((url) => url.replace(/\/+$/, ''))
      .describe('Where callers reach the api; CloudEvents `source` and `dataschema` are under it.'),
    RELAY_BATCH_SIZE: positiveInt.max(10_000).default(500).describe('Outbox rows the relay reads per round.'),
    RELAY_POLL_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(500)
      .describe('Fallback poll of the relay (it also wakes on each committed projector batch); standby relays try for the lease this often.'),
    RELAY_GATHER_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(1_000)
      .default(10)
      .describe(
        'When projector batches committed while the relay was publishing, it waits after waking as long as that round took, at most this long, so that one round publishes the batches committing meanwhile; an idle relay publishes a lone batch at once. 0: never waits.',
      ),
    STREAM_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500).describe("Fallback poll of the api's shared stream reader."),
    STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000).describe('Heartbeat comment on an idle stream.'),
    STREAM_CLIENT_BUFFER_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .max(256 * 1_048_576)
      .default(1_048_576)
      .describe('Bytes a stream client may have waiting before it is cut off with `event: overflow`.'),
    STREAM_MAX_CLIENTS: positiveInt.max(1_000_000).default(1_000).describe('Open streams per api process; past it `503 overloaded` before the stream opens.'),
    STREAM_MAX_CLIENTS_PER_ADDRESS: positiveInt
      .max(1_000_000)
      .default(20)
      .describe('Open streams per client; past it `429 rate-limited`. At most `STREAM_MAX_CLIENTS`.'),
    STREAM_MAX_CATCH_UPS: positiveInt
      .max(10_000)
      .default(10)
      .describe('Streams reading history (resuming behind the feed) at once per api process; one past it waits for a slot.'),
    STREAM_CATCH_UP_WAIT_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(2_000)
      .describe('How long a catch-up past `STREAM_MAX_CATCH_UPS` waits for a slot before it is answered `503 overloaded`.'),
    CURSOR_SECRET: z
      .string()
      .min(32, 'must be at least 32 characters')
      .optional()
      .describe(
        'Key of the HMAC that signs page cursors, at least 32 characters. Unset: a random key per process. Give every api instance the same one, or a cursor from one instance is a `400` on another (and after a restart).',
      ),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .describe('Least severe level logged. Health probes and metrics scrapes are logged at `debug`.'),
    AUTH_JWKS_URL: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        "The identity provider's JWKS URL: the keys that sign bearer tokens. One key source is required, this, `AUTH_PUBLIC_KEY` or `AUTH_PUBLIC_KEY_FILE`, unless `AUTH_PUBLIC_READ=true`.",
      ),
    AUTH_PUBLIC_KEY: z
      .string()
      .min(1)
      .optional()
      .describe('One public key (PEM, SPKI: `-----BEGIN PUBLIC KEY-----`) that signs bearer tokens; checked at start-up.'),
    AUTH_PUBLIC_KEY_FILE: z.string().min(1).optional().describe('The same, read from a file at start-up (`npm start` sets it to its development key).'),
    AUTH_ISSUER: z.string().min(1).optional().describe("A token's `iss` must be this; required with a key source."),
    AUTH_AUDIENCE: z.string().min(1).optional().describe("A token's `aud` must include this; required with a key source."),
    AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30).describe('Clock skew allowed on `exp` and `nbf`.'),
    AUTH_PUBLIC_READ: z
      .enum(['true', 'false'])
      .default('false')
      .transform((value) => value === 'true')
      .describe('`true`: `timelines:read` routes need no token (a public deployment); writes, ops and metrics still do.'),
    ADMIN_HOST: z.string().min(1).default('127.0.0.1').describe("The projector's admin listener (`/admin/rebuild`); keep it on loopback or a private network."),
    ADMIN_PORT: port.default(3002).describe('Its port (`0`: any free port), apart from `PROJECTOR_HTTP_PORT`.'),
    OTEL_TRACES_EXPORTER: z
      .enum(['none', 'otlp', 'console'])
      .default('none')
      .describe('Spans are exported only when this names an exporter (`otlp` is OTLP/HTTP); trace context is propagated either way.'),
    OTEL_EXPORTER_OTLP_ENDPOINT: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Where OTLP spans go; read by the exporter itself (its default: `http://localhost:4318`), checked here so that a typo stops the start.'),
    OTEL_SERVICE_NAME: z.string().min(1).optional().describe('`service.name` of exported spans; unset: `timeline-api` or `timeline-projector`.'),
  })
  .superRefine((env, context) => {
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
    if (env.BATCH_MAX_EVENTS > env.ADMISSION_MAX_WAITING)
      context.addIssue({ code: 'custom', path: ['BATCH_MAX_EVENTS'], message: 'must not exceed ADMISSION_MAX_WAITING' });
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
    throw new ConfigError([
      `${env.AUTH_PUBLIC_KEY_FILE ? 'AUTH_PUBLIC_KEY_FILE' : 'AUTH_PUBLIC_KEY'}: not a PEM public key (SPKI, "-----BEGIN PUBLIC KEY-----")`,
    ]);
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
  /** Streaming read replicas of the primary, and when a read may use one (see DATABASE_READ_URLS). */
  readonly readReplicas: {
    urls: string[];
    maxLagSeconds: number;
    maxLagBytes: number;
    checkIntervalMs: number;
    consistencyWaitMs: number;
  };
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
    listenBacklog: number;
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
  /** Load shedding before the handler runs (see SHED_*); a bound of 0 is off. */
  readonly shedding: { maxEventLoopDelayMs: number; maxEventLoopUtilization: number; sampleIntervalMs: number };
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
    this.readReplicas = {
      urls: env.DATABASE_READ_URLS,
      maxLagSeconds: env.READ_REPLICA_MAX_LAG_SECONDS,
      maxLagBytes: env.READ_REPLICA_MAX_LAG_BYTES,
      checkIntervalMs: env.READ_REPLICA_CHECK_INTERVAL_MS,
      consistencyWaitMs: env.READ_CONSISTENCY_WAIT_MS,
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
      listenBacklog: env.HTTP_LISTEN_BACKLOG,
    };
    this.rateLimits = {
      writes: { perSecond: env.RATE_LIMIT_WRITES_PER_SECOND, burst: env.RATE_LIMIT_WRITES_BURST },
      queries: { perSecond: env.RATE_LIMIT_QUERIES_PER_SECOND, burst: env.RATE_LIMIT_QUERIES_BURST },
      maxClients: env.RATE_LIMIT_MAX_CLIENTS,
    };
    this.decisionTimeoutMs = env.DECISION_TIMEOUT_MS;
    this.admission = { maxWaiting: env.ADMISSION_MAX_WAITING, batchMaxEvents: env.BATCH_MAX_EVENTS };
    this.shedding = {
      maxEventLoopDelayMs: env.SHED_MAX_EVENT_LOOP_DELAY_MS,
      maxEventLoopUtilization: env.SHED_MAX_EVENT_LOOP_UTILIZATION,
      sampleIntervalMs: env.SHED_SAMPLE_INTERVAL_MS,
    };
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
