import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Client } from 'pg';
import { expectEventually } from './support/eventually';
import {
  childrenOf,
  isAlive,
  type RunningPostgres,
  type RunningPostgresCluster,
  type RunningReplica,
  startEmbeddedPostgres,
  startEmbeddedReplica,
  startPostgresCluster,
} from '@timeline/dev-stack';

const REPO_ROOT = path.resolve(__dirname, '..');

async function query<T extends Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

const notesOn = async (url: string) => (await query<{ note: string }>(url, 'select note from notes order by id')).map((row) => row.note);

const slotsOn = async (primaryUrl: string) =>
  (await query<{ slot_name: string }>(primaryUrl, 'select slot_name from pg_replication_slots order by slot_name')).map((row) => row.slot_name);

/** Resolves once the replica has received (not necessarily replayed) everything the primary has written so far. */
async function untilReceived(primaryUrl: string, replica: RunningReplica): Promise<void> {
  const [{ lsn }] = await query<{ lsn: string }>(primaryUrl, 'select pg_current_wal_lsn()::text as lsn');
  await expectEventually(async () => {
    const [{ caught_up }] = await query<{ caught_up: boolean }>(replica.url, 'select pg_last_wal_receive_lsn() >= $1::pg_lsn as caught_up', [lsn]);
    expect(caught_up).toBe(true);
  });
}

/** The postmaster and its children now, to check afterwards that none is left. */
const processTree = (pid: number) => [pid, ...childrenOf(pid)];

describe('a streaming replica of the embedded PostgreSQL (startEmbeddedReplica)', () => {
  let primary: RunningPostgres;
  let replica: RunningReplica;

  beforeAll(async () => {
    primary = await startEmbeddedPostgres();
    await query(primary.url, 'create table notes (id serial primary key, note text not null)');
    replica = await startEmbeddedReplica(primary);
  }, 180_000);
  afterAll(async () => {
    await replica?.stop();
    await primary?.stop();
  }, 60_000);

  test('is a standby of the primary, through a slot of its own', async () => {
    expect(replica.name).toBe('replica-0');
    expect(replica.url).toBe(`postgres://postgres@127.0.0.1:${replica.port}/postgres`);
    expect(await query(replica.url, 'select pg_is_in_recovery() as in_recovery')).toEqual([{ in_recovery: true }]);
    expect(replica.slot).toBe(`replica_${replica.port}`);
    await expectEventually(async () =>
      expect(await query(primary.url, 'select slot_name, active from pg_replication_slots')).toEqual([{ slot_name: replica.slot, active: true }]),
    );
    // A standby takes no writes.
    await expect(query(replica.url, `insert into notes (note) values ('on the replica')`)).rejects.toThrow(/read-only transaction/);
  });

  test('a row written on the primary shows up on the replica', async () => {
    await query(primary.url, `insert into notes (note) values ('first')`);
    await expectEventually(async () => expect(await notesOn(replica.url)).toEqual(['first']));
  });

  test('after pauseReplay() a new row does not show up, though its WAL arrived, until resumeReplay()', async () => {
    await replica.pauseReplay();
    const pausedAt = await replica.replayLsn();
    await query(primary.url, `insert into notes (note) values ('while paused')`);
    await untilReceived(primary.url, replica);
    expect(await notesOn(replica.url)).toEqual(['first']);
    expect(await replica.replayLsn()).toBe(pausedAt);

    await replica.resumeReplay();
    await expectEventually(async () => expect(await notesOn(replica.url)).toEqual(['first', 'while paused']));
  });

  test('kill() crashes it; restart() recovers and catches up through the slot with what was written meanwhile', async () => {
    const crashed = processTree(replica.pid);
    await replica.kill();
    expect(crashed.filter(isAlive)).toEqual([]);
    expect(replica.pid).toBe(0);
    await expect(query(replica.url, 'select 1')).rejects.toThrow();
    // Written while the replica is down: the slot keeps the WAL for it.
    await query(primary.url, `insert into notes (note) select 'meanwhile ' || n from generate_series(1, 3) as n`);
    expect(await query(primary.url, 'select active from pg_replication_slots where slot_name = $1', [replica.slot])).toEqual([{ active: false }]);

    await replica.restart();
    expect(isAlive(replica.pid)).toBe(true);
    expect(crashed).not.toContain(replica.pid);
    await expectEventually(async () => expect(await notesOn(replica.url)).toEqual(['first', 'while paused', 'meanwhile 1', 'meanwhile 2', 'meanwhile 3']));
    const [{ lsn }] = await query<{ lsn: string }>(primary.url, 'select pg_current_wal_lsn()::text as lsn');
    await expectEventually(async () => {
      const [{ replayed }] = await query<{ replayed: boolean }>(replica.url, 'select $1::pg_lsn <= $2::pg_lsn as replayed', [lsn, await replica.replayLsn()]);
      expect(replayed).toBe(true);
    });
  });

  test('stop() leaves no process, no data dir and no slot; so does stop() after kill()', async () => {
    const second = await startEmbeddedReplica(primary);
    expect(second.name).toBe('replica-1');
    expect(await slotsOn(primary.url)).toEqual([replica.slot, second.slot].sort());
    const running = processTree(second.pid);
    await second.stop();
    expect(running.filter(isAlive)).toEqual([]);
    expect(existsSync(second.dataDir)).toBe(false);
    expect(await slotsOn(primary.url)).toEqual([replica.slot]);
    await second.stop(); // idempotent

    const third = await startEmbeddedReplica(primary);
    await third.kill();
    await third.stop();
    expect(existsSync(third.dataDir)).toBe(false);
    expect(await slotsOn(primary.url)).toEqual([replica.slot]);
  });

  test('is SIGKILLed, and its data dir deleted, when the process that started it dies', async () => {
    // An owner process of its own, which this test SIGKILLs: no 'exit' handler runs, only the watchdog is left.
    const owner = spawn(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        '-e',
        `require('./libs/dev-stack/src/embedded-replica').startEmbeddedReplica(${JSON.stringify({ url: primary.url })}).then((r) => {
          console.log(JSON.stringify({ pid: r.pid, dataDir: r.dataDir }));
          setInterval(() => undefined, 60_000);
        })`,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.json' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: owner.stdout }).once('line', resolve);
      owner.once('exit', (code) => reject(new Error(`owner exited with ${code}`)));
    });
    const started = JSON.parse(line) as { pid: number; dataDir: string };
    expect(isAlive(started.pid)).toBe(true);
    owner.kill('SIGKILL');
    await expectEventually(
      () => {
        expect(isAlive(started.pid)).toBe(false);
        expect(existsSync(started.dataDir)).toBe(false);
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
  }, 60_000);
});

describe("a streaming replica of the chaos lab's PostgreSQL 15 cluster (startReplica)", () => {
  let cluster: RunningPostgresCluster;
  let replica: RunningReplica;

  beforeAll(async () => {
    cluster = await startPostgresCluster();
    await query(cluster.adminUrl, 'create table notes (id serial primary key, note text not null)');
    replica = await cluster.startReplica();
  }, 180_000);
  afterAll(async () => {
    await replica?.stop();
    await cluster?.stop();
  }, 60_000);

  test('follows the primary, pauses and resumes, survives kill() and restart(), and stop() drops its slot', async () => {
    expect(await query(replica.url, `select current_setting('server_version_num')::int / 10000 as major, pg_is_in_recovery() as in_recovery`)).toEqual([
      { major: 15, in_recovery: true },
    ]);
    await query(cluster.adminUrl, `insert into notes (note) values ('first')`);
    await expectEventually(async () => expect(await notesOn(replica.url)).toEqual(['first']));

    await replica.pauseReplay();
    await query(cluster.adminUrl, `insert into notes (note) values ('while paused')`);
    await untilReceived(cluster.adminUrl, replica);
    expect(await notesOn(replica.url)).toEqual(['first']);
    await replica.resumeReplay();
    await expectEventually(async () => expect(await notesOn(replica.url)).toEqual(['first', 'while paused']));

    const crashed = processTree(replica.pid);
    await replica.kill();
    expect(crashed.filter(isAlive)).toEqual([]);
    await query(cluster.adminUrl, `insert into notes (note) values ('meanwhile')`);
    await replica.restart();
    await expectEventually(async () => expect(await notesOn(replica.url)).toEqual(['first', 'while paused', 'meanwhile']));

    const running = processTree(replica.pid);
    await replica.stop();
    expect(running.filter(isAlive)).toEqual([]);
    expect(existsSync(replica.dataDir)).toBe(false);
    expect(await slotsOn(cluster.adminUrl)).toEqual([]);
  }, 120_000);
});

describe('npm start with START_READ_REPLICA=1', () => {
  test('refuses the setting when DATABASE_URL names a server of the user, before starting anything', async () => {
    const started = spawn('bash', ['scripts/start.sh'], {
      cwd: REPO_ROOT,
      env: { ...process.env, START_READ_REPLICA: '1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/timeline' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    started.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    started.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => started.once('exit', resolve));
    expect(code).toBe(64);
    expect(output).toMatch(/START_READ_REPLICA=1 replicates the embedded PostgreSQL that npm start runs, and with DATABASE_URL set it runs none/);
  });
});
