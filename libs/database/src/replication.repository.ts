import type { Pool } from 'pg';
import { parseWalPosition, type WalPosition } from './consistency-token';

/** Where a read replica stands, as it reports it. */
export interface ReplicaPosition {
  /** False on a server that is not replaying WAL: a primary (a promoted replica, a wrong URL) is no replica. */
  inRecovery: boolean;
  /** The last WAL position replayed: what queries on it see. Null when not in recovery. */
  replayed: WalPosition | null;
  /** The last WAL position received from the primary (and flushed); null when not in recovery or before the first. */
  received: WalPosition | null;
  /** Seconds since the commit time of the last transaction replayed; null before one was. */
  sinceLastReplayedCommitSeconds: number | null;
  /** The server's WAL page size (`wal_block_size`, 8192 unless built otherwise). */
  walBlockSize: number;
}

/**
 * The WAL positions that read routing compares: the primary's insert position (a write's token, and how far
 * ahead of a replica it is) and a replica's replay and receive positions. Each a function call, no table read.
 */
export class ReplicationRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * The primary's WAL insert position: read after a decision is known committed, it is at or after that
   * decision's commit record. (Insert, not the write or flush position: those may still be behind a record
   * already inserted, and a replica can replay only what the primary has written.)
   */
  async walInsertPosition(): Promise<WalPosition> {
    const { rows } = await this.pool.query<{ position: string }>('select pg_current_wal_insert_lsn()::text as position');
    return parseWalPosition(rows[0].position);
  }

  /** A replica's replay and receive positions and the age of its last replayed commit, in one statement. */
  async replicaPosition(): Promise<ReplicaPosition> {
    const { rows } = await this.pool.query<{
      in_recovery: boolean;
      replayed: string | null;
      received: string | null;
      since_last_replayed_commit_seconds: number | null;
      wal_block_size: number;
    }>(
      `select pg_is_in_recovery() as in_recovery,
              pg_last_wal_replay_lsn()::text as replayed,
              pg_last_wal_receive_lsn()::text as received,
              extract(epoch from clock_timestamp() - pg_last_xact_replay_timestamp())::float8 as since_last_replayed_commit_seconds,
              current_setting('wal_block_size')::int as wal_block_size`,
    );
    const [row] = rows;
    return {
      inRecovery: row.in_recovery,
      replayed: row.replayed === null ? null : parseWalPosition(row.replayed),
      received: row.received === null ? null : parseWalPosition(row.received),
      sinceLastReplayedCommitSeconds: row.since_last_replayed_commit_seconds === null ? null : Math.max(0, row.since_last_replayed_commit_seconds),
      walBlockSize: row.wal_block_size,
    };
  }

  /** A replica's replay position alone: what a read waiting for a token polls. Null when not in recovery. */
  async replayPosition(): Promise<WalPosition | null> {
    const { rows } = await this.pool.query<{ replayed: string | null }>('select pg_last_wal_replay_lsn()::text as replayed');
    return rows[0].replayed === null ? null : parseWalPosition(rows[0].replayed);
  }
}
