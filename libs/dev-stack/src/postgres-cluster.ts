/**
 * A throw-away PostgreSQL cluster made with `initdb` on a free port and a temp data dir, so that a
 * test (or `npm run chaos`) can stop, crash and restart "the database" without touching the
 * machine's own server.
 *
 *   const postgres = await startPostgresCluster();
 *   // postgres.adminUrl: postgres://postgres@127.0.0.1:<port>/postgres
 *   await postgres.restart('immediate');
 *   await postgres.stop();
 *
 * Binaries come from POSTGRES_BIN (default /usr/lib/postgresql/15/bin). As root, initdb and pg_ctl
 * run as the `postgres` OS user (PostgreSQL refuses to run as root), with a data dir that user owns.
 * No server outlives this process: an 'exit' handler stops it, and a watchdog shell does the same
 * (and deletes the data dir) if this process is SIGKILLed.
 */
import { execFile, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-ports';

const POSTGRES_BIN = process.env.POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

export type StopMode = 'smart' | 'fast' | 'immediate';

export interface RunningPostgresCluster {
  port: number;
  dataDir: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust auth on loopback. */
  adminUrl: string;
  /** A URL of `database` on this cluster. */
  urlOf(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl stop -m <mode>`: `immediate` is a crash (recovery on the next start). */
  stopServer(mode?: StopMode): Promise<void>;
  /** `pg_ctl start`; resolves once the server accepts connections. */
  startServer(): Promise<void>;
  restart(mode?: StopMode): Promise<void>;
  /** Stops the server and removes the data dir. Idempotent. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

const live = new Set<{ dataDir: string }>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.on('exit', () => {
    for (const { dataDir } of live) {
      killPostmaster(dataDir);
      rmSync(path.dirname(dataDir), { recursive: true, force: true });
    }
  });
}

/** SIGKILL of the postmaster named in the data dir's pid file (its backends exit when it is gone). */
function killPostmaster(dataDir: string): void {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    /* not running */
  }
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the postgres OS user when we are root. */
function run(binary: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const command = asRoot ? 'runuser' : path.join(POSTGRES_BIN, binary);
  const fullArgs = asRoot ? ['-u', OS_USER, '--', path.join(POSTGRES_BIN, binary), ...args] : args;
  return new Promise((resolve, reject) => {
    execFile(command, fullArgs, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) =>
      error ? reject(new Error(`${binary} ${args.join(' ')} failed: ${error.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

export async function startPostgresCluster(): Promise<RunningPostgresCluster> {
  // The parent dir holds the data dir and the log; both belong to the postgres user.
  const root = mkdtempSync(path.join(os.tmpdir(), 'timeline-pg-'));
  const dataDir = path.join(root, 'data');
  const logFile = path.join(root, 'postgres.log');
  writeFileSync(logFile, '');
  if (asRoot) {
    const { uid, gid } = userIds(OS_USER);
    chownSync(root, uid, gid);
    chownSync(logFile, uid, gid);
  }
  installExitHandler();
  const entry = { dataDir };
  live.add(entry);
  await run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync']);
  const port = await freePort();
  writeFileSync(
    path.join(dataDir, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${root}'`,
      'max_connections = 200',
      'shared_buffers = 128MB',
      'fsync = on',
      'synchronous_commit = on',
      'log_min_messages = warning',
    ].join('\n') + '\n',
  );
  if (asRoot) {
    const { uid, gid } = userIds(OS_USER);
    chownSync(path.join(dataDir, 'postgresql.auto.conf'), uid, gid);
  }
  startWatchdog(root, dataDir);

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let stopped = false;

  const startServer = async () => {
    await run('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60']);
    await waitForConnections(adminUrl, 30_000);
  };
  const stopServer = async (mode: StopMode = 'fast') => {
    await run('pg_ctl', ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '60']);
  };
  await startServer();

  return {
    port,
    dataDir,
    adminUrl,
    urlOf,
    async createDatabase(name: string) {
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    stopServer,
    startServer,
    async restart(mode: StopMode = 'fast') {
      await stopServer(mode);
      await startServer();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer('immediate').catch(() => killPostmaster(dataDir));
      live.delete(entry);
      rmSync(root, { recursive: true, force: true });
    },
    logTail(lines = 30) {
      try {
        return readFileSync(logFile, 'utf8')
          .split('\n')
          .slice(-lines - 1)
          .join('\n');
      } catch {
        return '(no log)';
      }
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  if (!line) throw new Error(`no OS user ${name}: PostgreSQL cannot run as root`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Once this process is gone, SIGKILL the postmaster of `dataDir` and delete `root`. */
function startWatchdog(root: string, dataDir: string): void {
  const script = `
    while kill -0 "$1" 2>/dev/null; do sleep 1; done
    if [ -f "$3/postmaster.pid" ]; then kill -KILL "$(head -n 1 "$3/postmaster.pid")" 2>/dev/null; fi
    sleep 1; rm -rf -- "$2"`;
  const child = spawn('bash', ['-c', script, 'postgres-watchdog', String(process.pid), root, dataDir], { detached: true, stdio: 'ignore' });
  child.unref();
}

async function waitForConnections(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
