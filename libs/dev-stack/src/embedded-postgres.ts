/**
 * Throw-away PostgreSQL for tests: the embedded server (scripts/postgres/postgres.sh, PostgreSQL binaries
 * from the npm registry) on a free port with a temp data dir, as kafka-broker.ts brings a broker.
 *
 *   const postgres = await startEmbeddedPostgres();
 *   // new Client({ connectionString: postgres.url }) ...
 *   await postgres.stop();
 *
 * All server knowledge lives in scripts/postgres; this helper picks the port and the data dir, and runs the
 * script through postgres-script.ts, which reads the line it prints once the server answers. No server outlives the test process: an
 * 'exit' handler SIGKILLs it, and scripts/watchdog.sh (EMBEDDED_POSTGRES_OWNER_PID, _OWNER_PURGE) does the
 * same, and deletes the data dir, if this process is SIGKILLed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-ports';
import { killServer, launch, readLogTail, registerLive, type Supervisor, terminate, unregisterLive } from './postgres-script';

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
  let supervisor: Supervisor | null = await launch('server', port, dataDir);
  let stopped = false;
  registerLive(dataDir, () => supervisor);

  const halt = async (): Promise<void> => {
    if (supervisor) await terminate(supervisor, dataDir);
    supervisor = null;
  };

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    version: supervisor.ready.version,
    get pid() {
      return supervisor?.ready.pid ?? 0;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        await halt();
      } finally {
        unregisterLive(dataDir);
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
      supervisor = await launch('server', port, dataDir);
    },
    logTail: (lines?: number) => readLogTail(dataDir, lines),
  };
}
