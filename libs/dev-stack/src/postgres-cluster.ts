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
 * startReplica() adds a streaming replica (pg_basebackup -R -X stream -C -S <slot>), run the same way.
 * No server outlives this process: an 'exit' handler stops it, and a watchdog shell does the same
 * (and deletes the data dir) if this process is SIGKILLed.
 */
import { execFile, spawn } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { freePort } from './free-ports';
import { childrenOf, isAlive } from './process-alive';
import { dropReplicationSlot, replayControls, replicaNamer, type RunningReplica, slotFor } from './read-replica';

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
  /** A streaming replica of this cluster on a free port, with a slot of its own; resolves once it answers. */
  startReplica(): Promise<RunningReplica>;
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

/** The pid in the data dir's postmaster.pid, 0 if there is none. */
function postmasterPid(dataDir: string): number {
  try {
    const pid = Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0], 10);
    return pid > 0 ? pid : 0;
  } catch {
    return 0;
  }
}

/** SIGKILL of the postmaster named in the data dir's pid file (its backends exit when it is gone). */
function killPostmaster(dataDir: string): void {
  const pid = postmasterPid(dataDir);
  try {
    if (pid) process.kill(pid, 'SIGKILL');
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

/**
 * A temp dir for one server: its data dir (made later by initdb or pg_basebackup) and its log, both the postgres
 * user's; registered so that the exit handler removes it.
 */
function serverDir(prefix: string): { root: string; dataDir: string; logFile: string; entry: { dataDir: string } } {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
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
  return { root, dataDir, logFile, entry };
}

export async function startPostgresCluster(): Promise<RunningPostgresCluster> {
  const { root, dataDir, logFile, entry } = serverDir('timeline-pg-');
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
  const nextReplicaName = replicaNamer();

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
    logTail: (lines = 30) => readLog(logFile, lines),
    startReplica: () => startReplica(port, adminUrl, nextReplicaName()),
  };
}

function readLog(logFile: string, lines: number): string {
  try {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** A replica of the cluster on `primaryPort`: pg_basebackup makes its data dir, slot and standby settings. */
async function startReplica(primaryPort: number, primaryUrl: string, name: string): Promise<RunningReplica> {
  const port = await freePort();
  const slot = slotFor(port);
  const { root, dataDir, logFile, entry } = serverDir('timeline-pg-replica-');
  try {
    await run(
      'pg_basebackup',
      ['-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-D', dataDir, '-R', '-X', 'stream', '-C', '-S', slot, '-c', 'fast', '--no-sync'],
      300_000,
    );
  } catch (error) {
    live.delete(entry);
    rmSync(root, { recursive: true, force: true });
    await dropReplicationSlot(primaryUrl, slot);
    throw error;
  }
  // After what -R wrote (primary_conninfo, primary_slot_name) and the primary's own port and socket dir.
  appendFileSync(
    path.join(dataDir, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `unix_socket_directories = '${root}'`,
      // Queries on the replica hold back the primary's vacuum instead of being cancelled by its replay.
      'hot_standby_feedback = on',
    ].join('\n') + '\n',
  );
  startWatchdog(root, dataDir);

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  const startServer = async () => {
    // pg_ctl -w returns once a standby accepts read-only connections.
    await run('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '120'], 130_000);
    await waitForConnections(url, 30_000);
  };
  const running = () => {
    const pid = postmasterPid(dataDir);
    return pid && isAlive(pid) ? pid : 0;
  };
  try {
    await startServer();
  } catch (error) {
    killPostmaster(dataDir);
    live.delete(entry);
    const log = readLog(logFile, 30);
    rmSync(root, { recursive: true, force: true });
    await dropReplicationSlot(primaryUrl, slot);
    throw new Error(`${name} of 127.0.0.1:${primaryPort} did not start: ${error instanceof Error ? error.message : String(error)}\n${log}`);
  }

  return {
    name,
    url,
    port,
    slot,
    dataDir,
    get pid() {
      return running();
    },
    urlOf: (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    ...replayControls(url),
    async kill() {
      const pid = running();
      if (!pid) return;
      const children = childrenOf(pid);
      for (const target of [pid, ...children]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      const deadline = Date.now() + 10_000;
      while ([pid, ...children].some(isAlive)) {
        if (Date.now() > deadline) throw new Error(`${name}: pid ${pid} or its children survived SIGKILL`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // pg_ctl's postmaster is an orphan, and where nobody reaps orphans its zombie keeps the pid that the lock
      // files name alive for kill(0): the next start would take it for a running server.
      rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
      rmSync(path.join(root, `.s.PGSQL.${port}.lock`), { force: true });
    },
    async restart() {
      if (stopped) throw new Error(`${name} already stopped; start a new one`);
      if (running()) await run('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
      await startServer();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (running()) await run('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']).catch(() => killPostmaster(dataDir));
      await dropReplicationSlot(primaryUrl, slot);
      live.delete(entry);
      rmSync(root, { recursive: true, force: true });
    },
    logTail: (lines = 30) => readLog(logFile, lines),
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
