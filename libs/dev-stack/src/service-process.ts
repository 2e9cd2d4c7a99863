/**
 * The api and the projector as child processes, as in production, so that each one's memory can be
 * read from /proc on its own and a test can SIGKILL one; and an RSS sampler for them. The bench and
 * `npm run chaos` start them from dist/ (after `npm run build`); tests from the sources, through
 * @swc-node/register.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync, closeSync } from 'node:fs';
import * as path from 'node:path';

/** The repository root, also from a compiled copy of this file (dist/libs/dev-stack/src). */
export const REPO_ROOT = (() => {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

/** `dist`: node dist/apps/<app>/src/main.js; `source`: the TypeScript sources through @swc-node/register. */
export type Entry = 'dist' | 'source';

/** Children still running, SIGKILLed if the bench exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

export interface Memory {
  /** VmRSS, KiB. */
  rssKb: number;
  /** VmHWM: peak RSS since the process started, KiB. */
  hwmKb: number;
}

export function readMemory(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return null;
  }
}

export class ServiceProcess {
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Spawns the app (see `Entry`); its stdout and stderr go to `logFile`. */
  static spawn(name: string, app: 'api' | 'projector', env: Record<string, string>, port: number, logFile: string, entry: Entry = 'dist'): ServiceProcess {
    const fd = openSync(logFile, 'a');
    const portVariable = app === 'api' ? 'HTTP_PORT' : 'PROJECTOR_HTTP_PORT';
    const args =
      entry === 'dist'
        ? [path.join(REPO_ROOT, 'dist', 'apps', app, 'src', 'main.js')]
        : ['-r', '@swc-node/register', path.join(REPO_ROOT, 'apps', app, 'src', 'main.ts')];
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      // ADMIN_PORT 0: several projectors run side by side, each with an admin listener of its own.
      env: {
        ...process.env,
        ADMIN_PORT: '0',
        ...env,
        HTTP_HOST: '127.0.0.1',
        [portVariable]: String(port),
        SWC_NODE_PROJECT: path.join(REPO_ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    live.add(child);
    child.once('exit', () => live.delete(child));
    return new ServiceProcess(name, child, port, logFile);
  }

  /** Resolves once GET /health/ready answers 200 (PostgreSQL migrated, Kafka reachable). */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`${this.name} exited (${this.child.exitCode ?? this.child.signalCode}) during start-up:\n${this.logTail()}`);
      try {
        const response = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(5_000) });
        if (response.ok) return;
        last = `${response.status} ${await response.text()}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(200);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms (last: ${last}):\n${this.logTail()}`);
  }

  /** SIGKILL: no shutdown hook runs, no transaction in flight commits. Resolves once it has exited. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    await exited;
  }

  memory(): Memory | null {
    return this.exited ? null : readMemory(this.pid);
  }

  /** SIGTERM (the apps close their Kafka clients and pools), SIGKILL after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const killed = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (killed) {
      this.child.kill('SIGKILL');
      await exited;
    }
  }

  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8')
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export interface RssSample {
  atMs: number;
  rssKb: number;
}

/** Samples a process's VmRSS every `intervalMs`; `onSample` may read other things at the same tick. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 250,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    return this;
  }

  /** Stops sampling; returns the peak of the samples and the kernel's high-water mark (VmHWM). */
  stop(): { peakKb: number | null; hwmKb: number | null; lastKb: number | null; count: number } {
    const final = readMemory(this.pid);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (final) this.samples.push({ atMs: Date.now() - this.startedAt, rssKb: final.rssKb });
    return {
      peakKb: this.samples.length ? Math.max(...this.samples.map((sample) => sample.rssKb)) : null,
      hwmKb: final?.hwmKb ?? null,
      lastKb: this.samples.at(-1)?.rssKb ?? null,
      count: this.samples.length,
    };
  }

  private sample(): void {
    const memory = readMemory(this.pid);
    if (memory) this.samples.push({ atMs: Date.now() - this.startedAt, rssKb: memory.rssKb });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
