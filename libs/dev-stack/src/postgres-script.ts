/**
 * Running scripts/postgres/postgres.sh (the embedded server, or a replica of one) from a test or a tool: the
 * launchers embedded-postgres.ts and embedded-replica.ts pick the port, the data dir and the environment; this
 * runs the script, reads the JSON line it prints once the server answers, and stops or crashes the server.
 * No server outlives the process: an 'exit' handler SIGKILLs what is still running (and deletes the data dirs),
 * and the scripts' watchdog (EMBEDDED_POSTGRES_OWNER_PID) does the same if this process is SIGKILLed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { childrenOf, isAlive } from './process-alive';
import { REPO_ROOT } from './service-process';

// The repository's own script, also from a compiled copy of this file: the build compiles the ES module
// supervisors beside it into CommonJS, which plain node cannot run as they are.
const SCRIPT = path.join(REPO_ROOT, 'scripts', 'postgres', 'postgres.sh');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

/** What the script prints once the server answers (a replica adds its slot). */
export interface ReadyLine {
  url: string;
  pid: number;
  version: string;
  slot?: string;
}

/** A running scripts/postgres/postgres.sh and the server it started. */
export interface Supervisor {
  process: ChildProcess;
  exited: Promise<void>;
  ready: ReadyLine;
}

/** Servers started by this process, SIGKILLed on 'exit' if a test forgot (or could not) stop them. */
const live = new Map<string, () => Supervisor | null>();
let exitHandlerInstalled = false;

/** Keeps `dataDir`'s server in the 'exit' handler's list while `current()` returns its supervisor. */
export function registerLive(dataDir: string, current: () => Supervisor | null): void {
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const [dir, supervisorOf] of live) {
        const supervisor = supervisorOf();
        if (supervisor) {
          killServer(supervisor, dir);
          supervisor.process.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
      }
      live.clear();
    });
  }
  live.set(dataDir, current);
}

export function unregisterLive(dataDir: string): void {
  live.delete(dataDir);
}

/**
 * SIGKILL the postmaster (only if it still is this data dir's: guards against pid reuse) and its children.
 * The supervisor reaps the postmaster, which a restart needs (a zombie's pid in postmaster.pid still
 * counts as running), then exits.
 */
export function killServer(supervisor: Supervisor, dataDir: string): void {
  const { pid } = supervisor.ready;
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

export function readLogTail(dataDir: string, lines = 40): string {
  try {
    return readFileSync(path.join(dataDir, 'postgres.log'), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no postgres.log)';
  }
}

/**
 * Runs `postgres.sh <mode>` with the environment given (EMBEDDED_POSTGRES_PORT, _DATA_DIR and the owner's pid
 * are set here) and resolves with what it prints once the server answers.
 */
export async function launch(
  mode: 'server' | 'replica',
  port: number,
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
  startTimeoutMs = START_TIMEOUT_MS,
): Promise<Supervisor> {
  const child = spawn('bash', [SCRIPT, mode], {
    env: {
      ...process.env,
      ...env,
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
        timer = setTimeout(() => reject(new Error(`no answer within ${startTimeoutMs} ms`)), startTimeoutMs);
      }),
    ]);
    const ready = JSON.parse(line) as ReadyLine;
    // The supervisor lives as long as the server; neither may keep this process alive.
    child.unref();
    (child.stdout as Socket).unref();
    (child.stderr as Socket).unref();
    return { process: child, exited, ready };
  } catch (error) {
    child.kill('SIGKILL');
    const message = error instanceof Error ? error.message : String(error);
    const what = mode === 'replica' ? 'embedded PostgreSQL replica' : 'embedded PostgreSQL';
    throw new Error(`${what} on port ${port}: ${message}\n${stderr.trim() || readLogTail(dataDir)}`);
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

/** SIGTERM (the supervisor stops the server: fast shutdown), wait; SIGKILL everything after STOP_TIMEOUT_MS. */
export async function terminate(supervisor: Supervisor, dataDir: string): Promise<void> {
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
