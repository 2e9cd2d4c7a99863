/**
 * Throw-away PostgreSQL for tests: the embedded server (scripts/postgres/postgres.sh, PostgreSQL binaries
 * from the npm registry) on a free port with a temp data dir, as kafka-broker.ts brings a broker.
 *
 *   const postgres = await startEmbeddedPostgres();
 *   // new Client({ connectionString: postgres.url }) ...
 *   await postgres.stop();
 *
 * All server knowledge lives in scripts/postgres; this helper picks the port and the data dir, runs the
 * script and reads the line it prints once the server answers. No server outlives the test process: an
 * 'exit' handler SIGKILLs it, and scripts/watchdog.sh (EMBEDDED_POSTGRES_OWNER_PID, _OWNER_PURGE) does the
 * same, and deletes the data dir, if this process is SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './free-ports';
import { isAlive } from './process-alive';

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust authentication: where test databases are created. */
  url: string;
  port: number;
  /** Temp dir holding the cluster (pgdata/) and postgres.log; removed by stop(). */
  dataDir: string;
  /** `server_version`, e.g. `18.4`. */
  version: string;
  /** Current postmaster pid (changes after restart()). */
  readonly pid: number;
  /** Fast shutdown, wait for exit (SIGKILL after 30 s), remove the data dir. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL the server and its backends now (crash simulation); keeps the data dir, so restart() works afterwards. */
  kill(): Promise<void>;
  /** Stop (or after kill(): recover) and start again on the same port and data dir; resolves when it answers. */
  restart(): Promise<void>;
  /** Last lines of postgres.log, for diagnostics. */
  logTail(lines?: number): string;
}

const SCRIPT = path.resolve(__dirname, '../../../scripts/postgres/postgres.sh');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** A running scripts/postgres/postgres.sh and the server it started. */
interface Supervisor {
  process: ChildProcess;
  exited: Promise<void>;
  pid: number;
  version: string;
}

/** Servers started by this process, SIGKILLed on 'exit' if a test forgot (or could not) stop them. */
const live = new Map<string, () => Supervisor | null>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const [dataDir, current] of live) {
      const supervisor = current();
      if (supervisor) {
        killServer(supervisor, dataDir);
        supervisor.process.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    }
    live.clear();
  });
}

/** The postmaster's children (backends, background processes), so that a crash leaves none behind. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * SIGKILL the postmaster (only if it still is this data dir's: guards against pid reuse) and its children.
 * The supervisor reaps the postmaster, which a restart needs (a zombie's pid in postmaster.pid still
 * counts as running), then exits.
 */
function killServer(supervisor: Supervisor, dataDir: string): void {
  const { pid } = supervisor;
  let ours = false;
  try {
    ours = isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDir);
  } catch {
    /* already gone */
  }
  if (ours) {
    const children = childrenOf(pid);
    for (const target of [pid, ...children]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}

function readLogTail(dataDir: string, lines = 40): string {
  try {
    return readFileSync(path.join(dataDir, 'postgres.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no postgres.log)';
  }
}

/** Runs the script and resolves with the server's pid and version once it answers. */
async function launch(port: number, dataDir: string): Promise<Supervisor> {
  const child = spawn('bash', [SCRIPT], {
    env: {
      ...process.env,
      EMBEDDED_POSTGRES_PORT: String(port),
      EMBEDDED_POSTGRES_DATA_DIR: dataDir,
      EMBEDDED_POSTGRES_OWNER_PID: String(process.pid),
      EMBEDDED_POSTGRES_OWNER_PURGE: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  let timer: NodeJS.Timeout | undefined;
  try {
    const line = await Promise.race([
      new Promise<string>((resolve) => lines.once('line', resolve)),
      exited.then(() => Promise.reject(new Error(`exited with ${child.exitCode ?? child.signalCode}`))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      }),
    ]);
    const ready = JSON.parse(line) as { pid: number; version: string };
    // The supervisor lives as long as the server; neither may keep this process alive.
    child.unref();
    (child.stdout as Socket).unref();
    (child.stderr as Socket).unref();
    return { process: child, exited, pid: ready.pid, version: ready.version };
  } catch (error) {
    child.kill('SIGKILL');
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`embedded PostgreSQL on port ${port}: ${message}\n${stderr.trim() || readLogTail(dataDir)}`);
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** SIGTERM (the supervisor stops the server: fast shutdown), wait; SIGKILL everything after STOP_TIMEOUT_MS. */
async function terminate(supervisor: Supervisor, dataDir: string): Promise<void> {
  supervisor.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS)));
  if (await Promise.race([supervisor.exited.then(() => false), timedOut])) {
    killServer(supervisor, dataDir);
    supervisor.process.kill('SIGKILL');
  }
  clearTimeout(timer);
  await supervisor.exited;
}

export async function startEmbeddedPostgres(): Promise<RunningPostgres> {
  // A free port is released before PostgreSQL binds it, so another process can take it in between: retry then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'timeline-postgres-'));
    try {
      return await start(port, dataDir);
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true });
      if (attempt < 3 && /could not bind|already in use/.test(String(error))) continue;
      throw error;
    }
  }
}

async function start(port: number, dataDir: string): Promise<RunningPostgres> {
  let supervisor: Supervisor | null = await launch(port, dataDir);
  let stopped = false;
  installExitHandler();
  live.set(dataDir, () => supervisor);

  const halt = async (): Promise<void> => {
    if (supervisor) await terminate(supervisor, dataDir);
    supervisor = null;
  };

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    version: supervisor.version,
    get pid() {
      return supervisor?.pid ?? 0;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await halt();
      } finally {
        live.delete(dataDir);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
    async kill() {
      if (!supervisor) return;
      killServer(supervisor, dataDir);
      await supervisor.exited;
      supervisor = null;
    },
    async restart() {
      if (stopped) throw new Error('embedded PostgreSQL already stopped; start a new one');
      await halt();
      supervisor = await launch(port, dataDir);
    },
    logTail: (lines?: number) => readLogTail(dataDir, lines),
  };
}
