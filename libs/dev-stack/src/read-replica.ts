/**
 * A streaming read replica for `npm start`, the tests, chaos and the bench: what embedded-replica.ts (of the
 * embedded server) and postgres-cluster.ts (of the chaos lab's PostgreSQL 15) return, and the SQL both run on
 * a replica and its primary.
 */
import { Client } from 'pg';

export interface RunningReplica {
  /** `replica-0`, `replica-1`, ... in the order they were started from one primary. */
  name: string;
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, trust authentication. */
  url: string;
  port: number;
  /** The replication slot on the primary that keeps the WAL this replica has not received yet: `replica_<port>`. */
  slot: string;
  /** Holds the replica's cluster and its log; removed by stop(). */
  dataDir: string;
  /** Current postmaster pid (0 while killed; changes after restart()). */
  readonly pid: number;
  urlOf(database: string): string;
  /** `pg_wal_replay_pause()`, resolving once no further WAL record is applied (WAL is still received). */
  pauseReplay(): Promise<void>;
  /** `pg_wal_replay_resume()`. */
  resumeReplay(): Promise<void>;
  /** `pg_last_wal_replay_lsn()`, e.g. `0/3000148`. */
  replayLsn(): Promise<string>;
  /** SIGKILL of the server and its backends (a crash); keeps the data dir, so restart() works afterwards. */
  kill(): Promise<void>;
  /** Start again on the same port and data dir (after kill(): crash recovery); resolves when it accepts connections. */
  restart(): Promise<void>;
  /** Stop, drop the slot on the primary if it answers, remove the data dir. Idempotent. */
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

const CONNECT_TIMEOUT_MS = 5_000;
const PAUSE_TIMEOUT_MS = 10_000;

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The replica-side operations of RunningReplica, on the replica at `url`. */
export function replayControls(url: string): Pick<RunningReplica, 'pauseReplay' | 'resumeReplay' | 'replayLsn'> {
  return {
    pauseReplay: () =>
      withClient(url, async (client) => {
        await client.query('select pg_wal_replay_pause()');
        // 'pause requested' until the startup process sees the request; records already applied stay applied.
        const deadline = Date.now() + PAUSE_TIMEOUT_MS;
        for (;;) {
          const { rows } = await client.query<{ state: string }>('select pg_get_wal_replay_pause_state() as state');
          if (rows[0].state === 'paused') return;
          if (Date.now() > deadline) throw new Error(`replay on ${url} not paused within ${PAUSE_TIMEOUT_MS} ms (${rows[0].state})`);
          await sleep(50);
        }
      }),
    resumeReplay: () =>
      withClient(url, async (client) => {
        await client.query('select pg_wal_replay_resume()');
      }),
    replayLsn: () =>
      withClient(url, async (client) => {
        const { rows } = await client.query<{ lsn: string | null }>('select pg_last_wal_replay_lsn()::text as lsn');
        if (!rows[0].lsn) throw new Error(`${url} is not a replica (no replay position)`);
        return rows[0].lsn;
      }),
  };
}

/**
 * Drops `slot` on the primary once no walsender uses it (one ends shortly after its replica stops). False when
 * the primary does not answer or the slot stays in use: then it is left in place.
 */
export async function dropReplicationSlot(primaryUrl: string, slot: string): Promise<boolean> {
  try {
    return await withClient(primaryUrl, async (client) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        const { rows } = await client.query<{ active: boolean }>('select active from pg_replication_slots where slot_name = $1', [slot]);
        if (rows.length === 0) return true;
        if (!rows[0].active) {
          await client.query('select pg_drop_replication_slot($1)', [slot]);
          return true;
        }
        await sleep(100);
      }
      return false;
    });
  } catch {
    return false;
  }
}

/** Names replicas `replica-0`, `replica-1`, ... in the order one primary's are started. */
export function replicaNamer(): () => string {
  let next = 0;
  return () => `replica-${next++}`;
}

/** A slot name no other live replica of the machine has (their ports differ), whichever process started it. */
export const slotFor = (port: number) => `replica_${port}`;
