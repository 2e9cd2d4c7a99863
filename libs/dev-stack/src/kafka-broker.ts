/**
 * Throw-away Apache Kafka broker for tests (KRaft, single node, 127.0.0.1, free ports, temp data dir).
 *
 * All broker knowledge (jar cache, server.properties, storage format, JVM flags, readiness probe,
 * stop/kill) lives in scripts/kafka/kafka.sh; this helper only picks ports and a data dir, calls the
 * script with KAFKA_PORT / KAFKA_CONTROLLER_PORT / KAFKA_DATA_DIR set, and reads its pid file.
 *
 *   const kafka = await startKafkaBroker();
 *   // new Kafka({ brokers: [kafka.bootstrap] }) ...
 *   await kafka.stop();
 *
 * The first call in a fresh environment resolves the jars from Maven Central (cached under
 * ~/.cache/timeline-service, override with KAFKA_HOME_CACHE); a broker then starts in a few seconds.
 * No JVM outlives the test process: an 'exit' handler SIGKILLs it, and kafka.sh's watchdog
 * (KAFKA_OWNER_PID, KAFKA_OWNER_PURGE) does the same, and deletes the data dir, if this process is SIGKILLed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePorts } from './free-ports';
import { isAlive } from './process-alive';

export interface RunningKafkaBroker {
  /** `127.0.0.1:<port>`, for `new Kafka({ brokers: [bootstrap] })`. */
  bootstrap: string;
  port: number;
  controllerPort: number;
  /** With the `scram` option: `127.0.0.1:<port>` of the SASL_PLAINTEXT listener that takes SCRAM. */
  saslBootstrap?: string;
  /** With the `scram` option: `127.0.0.1:<port>` of the SASL_SSL listener (SCRAM over TLS, a self-signed certificate). */
  saslSslBootstrap?: string;
  /** With the `scram` option: the PEM certificate a client must trust to reach `saslSslBootstrap`. */
  caFile?: string;
  /** Temp dir holding server.properties, kafka.pid, kafka.log and the log dir; removed by stop(). */
  dataDir: string;
  /** Current JVM pid (changes after restart()). */
  readonly pid: number;
  /** SIGTERM, wait for exit (SIGKILL after 20 s), remove the data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL the JVM now (crash simulation); keeps the data dir, so restart() works afterwards. */
  kill(): void;
  /** Stop (or after kill(): clean up) and start again on the same ports and data dir; resolves when ready. */
  restart(): Promise<void>;
  /** Last lines of the broker log, for diagnostics. */
  logTail(lines?: number): string;
}

export interface StartKafkaBrokerOptions {
  /** JVM -Xmx, e.g. '512m' (kafka.sh default: 768m). */
  heap?: string;
  /** Readiness timeout in ms (default 90 000). */
  startTimeoutMs?: number;
  /** Also SASL_PLAINTEXT and SASL_SSL listeners (SCRAM-SHA-256 and -512) on which this user may log in. */
  scram?: { username: string; password: string };
}

/** A KRaft cluster of nodes that are each broker and controller, on 127.0.0.1. */
export interface RunningKafkaCluster {
  /** Every node's `127.0.0.1:<port>`, for `KAFKA_BROKERS` or `new Kafka({ brokers })`. */
  brokers: string[];
  nodes: RunningKafkaBroker[];
  /** Stops every node and removes their data dirs. Idempotent. */
  stop(): Promise<void>;
}

export interface StartKafkaClusterOptions extends StartKafkaBrokerOptions {
  /** Nodes (default 3); controller.quorum.voters lists them all. */
  nodes?: number;
  /** Default and internal topics' replication factor (default: every node). */
  replicationFactor?: number;
  /** min.insync.replicas (default 2). */
  minInsyncReplicas?: number;
}

const INSTALL_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_S = 20;

/** Brokers started by this process, SIGKILLed on 'exit' if a test forgot (or could not) stop them. */
const live = new Map<string, { pid: () => number; dataDir: string }>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const { pid, dataDir } of live.values()) {
      killBroker(pid(), dataDir);
      try {
        rmSync(dataDir, { recursive: true, force: true });
      } catch {
        /* best effort */
      }
    }
    live.clear();
  });
}

function findKafkaScript(): string {
  if (process.env.KAFKA_SCRIPT) return process.env.KAFKA_SCRIPT;
  // libs/dev-stack/src -> repo root; walk up so this also works from a compiled copy (dist/libs/dev-stack/src).
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'scripts', 'kafka', 'kafka.sh');
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  const fromCwd = path.join(process.cwd(), 'scripts', 'kafka', 'kafka.sh');
  if (existsSync(fromCwd)) return fromCwd;
  throw new Error(`scripts/kafka/kafka.sh not found above ${__dirname} (set KAFKA_SCRIPT)`);
}

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) {
        const err = new Error(
          `kafka.sh ${args.join(' ')} failed (${error.killed ? `timed out after ${timeoutMs} ms` : `exit ${String(error.code)}`}):\n${stderr}`,
        );
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** SIGKILL, but only if the pid still is the broker of this data dir (guards against pid reuse). */
function killBroker(pid: number, dataDir: string): void {
  if (!pid || !isAlive(pid)) return;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(dataDir)) return;
  } catch {
    /* no /proc: trust the pid */
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

function readLogTail(dataDir: string, lines = 40): string {
  try {
    const text = readFileSync(path.join(dataDir, 'kafka.log'), 'utf8');
    return text
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no kafka.log)';
  }
}

/** Client-side readiness with the client our code uses: kafkajs admin listTopics(). */
async function waitForListTopics(bootstrap: string, pid: number, dataDir: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      throw new Error(`Kafka broker (pid ${pid}) exited during startup; log tail:\n${readLogTail(dataDir)}`);
    }
    const admin = new Kafka({
      clientId: 'kafka-broker-readiness',
      brokers: [bootstrap],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
  throw new Error(`Kafka on ${bootstrap} not ready after ${timeoutMs} ms (last error: ${lastError}); log tail:\n${readLogTail(dataDir)}`);
}

export async function startKafkaBroker(opts: StartKafkaBrokerOptions = {}): Promise<RunningKafkaBroker> {
  const script = findKafkaScript();

  // Jars cached once per machine (no-op when complete; kafka.sh serialises concurrent installs).
  await runScript(script, ['install'], process.env, INSTALL_TIMEOUT_MS);

  // Free ports are released before Kafka binds them, so a parallel test worker can grab one in between:
  // retry with fresh ports when that happens.
  for (let attempt = 1; ; attempt++) {
    const [port, controllerPort, saslPort, saslSslPort] = await freePorts(opts.scram ? 4 : 2);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'timeline-kafka-'));
    const scramEnv: Record<string, string> = opts.scram
      ? { KAFKA_SASL_PORT: String(saslPort), KAFKA_SASL_SSL_PORT: String(saslSslPort), KAFKA_SCRAM_USERS: `${opts.scram.username}:${opts.scram.password}` }
      : {};
    try {
      return await launch(script, port, controllerPort, dataDir, opts, scramEnv);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (attempt < 3 && /already in use|BindException/.test(message)) continue;
      throw e;
    }
  }
}

/**
 * A throw-away KRaft cluster: every node is broker and controller, all formatted with one cluster id,
 * started together (a node is ready only once a quorum of controllers is up). Each node is a
 * RunningKafkaBroker, so a test can kill() and restart() one of them.
 */
export async function startKafkaCluster(opts: StartKafkaClusterOptions = {}): Promise<RunningKafkaCluster> {
  const script = findKafkaScript();
  await runScript(script, ['install'], process.env, INSTALL_TIMEOUT_MS);
  const count = opts.nodes ?? 3;
  const ports = await freePorts(2 * count);
  const ids = Array.from({ length: count }, (_, index) => index + 1);
  const voters = ids.map((id, index) => `${id}@127.0.0.1:${ports[2 * index + 1]}`).join(',');
  const clusterEnv = {
    KAFKA_QUORUM_VOTERS: voters,
    KAFKA_CLUSTER_ID: newClusterId(),
    KAFKA_REPLICATION: String(opts.replicationFactor ?? count),
    KAFKA_MIN_INSYNC: String(opts.minInsyncReplicas ?? 2),
  };
  const started = await Promise.allSettled(
    ids.map(async (id, index) => {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), `timeline-kafka-${id}-`));
      return launch(script, ports[2 * index], ports[2 * index + 1], dataDir, opts, { ...clusterEnv, KAFKA_NODE_ID: String(id) });
    }),
  );
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop().catch(() => node.kill())));
  };
  if (failure) {
    await stop();
    throw failure.reason;
  }
  return { brokers: nodes.map((node) => node.bootstrap), nodes, stop };
}

/** 16 random bytes as base64url without padding, not starting with '-' (what kafka-storage accepts). */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function launch(
  script: string,
  port: number,
  controllerPort: number,
  dataDir: string,
  opts: StartKafkaBrokerOptions,
  extraEnv: Record<string, string> = {},
): Promise<RunningKafkaBroker> {
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const bootstrap = `127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_DATA_DIR: dataDir,
    KAFKA_START_TIMEOUT: String(Math.ceil(startTimeoutMs / 1000)),
    KAFKA_STOP_TIMEOUT: String(STOP_TIMEOUT_S),
    KAFKA_OWNER_PID: String(process.pid),
    KAFKA_OWNER_PURGE: '1',
    ...(opts.heap ? { KAFKA_HEAP: opts.heap } : {}),
    ...extraEnv,
  };
  // Give the script's own timeout room to report first (it prints the log tail).
  const scriptStartTimeoutMs = startTimeoutMs + 30_000;
  const scriptStopTimeoutMs = (STOP_TIMEOUT_S + 15) * 1000;

  let pid = 0;
  let stopped = false;
  installExitHandler();
  live.set(dataDir, { pid: () => pid, dataDir });

  const readPid = async (): Promise<number> => {
    const text = await readFile(path.join(dataDir, 'kafka.pid'), 'utf8');
    const n = Number.parseInt(text.trim(), 10);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`bad pid file in ${dataDir}: ${JSON.stringify(text)}`);
    return n;
  };

  const start = async (): Promise<void> => {
    const deadline = Date.now() + startTimeoutMs;
    await runScript(script, ['start'], env, scriptStartTimeoutMs);
    pid = await readPid();
    // kafka.sh already probed with kafkajs; confirm from this process (cheap when ready).
    await waitForListTopics(bootstrap, pid, dataDir, Math.max(5_000, deadline - Date.now()));
  };

  const kill = (): void => killBroker(pid, dataDir);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await runScript(script, ['stop', '--purge'], env, scriptStopTimeoutMs);
    } catch (e) {
      kill();
      throw e;
    } finally {
      live.delete(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    }
  };

  const restart = async (): Promise<void> => {
    if (stopped) throw new Error('Kafka broker already stopped; start a new one');
    await runScript(script, ['stop'], env, scriptStopTimeoutMs);
    await start();
  };

  try {
    await start();
  } catch (e) {
    kill();
    live.delete(dataDir);
    const tail = readLogTail(dataDir);
    await rm(dataDir, { recursive: true, force: true });
    const message = e instanceof Error ? e.message : String(e);
    throw new Error(message.includes('last lines of') || message.includes('log tail') ? message : `${message}\nlog tail:\n${tail}`);
  }

  return {
    bootstrap,
    port,
    controllerPort,
    ...(extraEnv.KAFKA_SASL_PORT ? { saslBootstrap: `127.0.0.1:${extraEnv.KAFKA_SASL_PORT}` } : {}),
    ...(extraEnv.KAFKA_SASL_SSL_PORT ? { saslSslBootstrap: `127.0.0.1:${extraEnv.KAFKA_SASL_SSL_PORT}`, caFile: path.join(dataDir, 'tls', 'ca.pem') } : {}),
    dataDir,
    get pid() {
      return pid;
    },
    stop,
    kill,
    restart,
    logTail: (lines?: number) => readLogTail(dataDir, lines),
  };
}
