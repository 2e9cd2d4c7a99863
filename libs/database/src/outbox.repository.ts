import type { ChangeType, TimelineChange } from '@timeline/domain';
import type { Pool, PoolClient } from 'pg';

/**
 * Where a row stands in the order every outbox reader uses: by transaction id,
 * then position. Reading only rows with transaction_id below the snapshot's
 * xmin (as Emmett's readMessagesBatch does) makes that order gap-safe: a row
 * that is not visible yet belongs to a transaction at or above the xmin, so it
 * sorts after everything already read. Positions alone are not enough: they are
 * taken at insert, and a transaction can commit a lower position after another
 * committed a higher one.
 */
export interface StreamKey {
  transactionId: bigint;
  position: number;
}

export const STREAM_START: StreamKey = { transactionId: 0n, position: 0 };

export function compareStreamKeys(a: StreamKey, b: StreamKey): number {
  if (a.transactionId !== b.transactionId) return a.transactionId < b.transactionId ? -1 : 1;
  return a.position - b.position;
}

export interface OutboxRow extends StreamKey {
  timelineId: string;
  changeType: ChangeType;
  commandId: string;
  changeIndex: number;
  change: TimelineChange;
  traceparent: string | null;
}

export interface StreamFilter {
  timelineId?: string;
  changeTypes?: ChangeType[];
}

/** Holds the relay's advisory lock on a connection of its own; the lock goes when the connection does. */
export interface RelayLease {
  readonly held: boolean;
  release(): Promise<void>;
}

// Any constant works; the second key is the schema, so that services sharing a database do not share a relay.
const RELAY_LOCK_KEY = 7_353_002;

const ROW_COLUMNS = `transaction_id::text as transaction_id, position, timeline_id, change_type, command_id,
                     change_index, payload, traceparent`;

/** The outbox's readers: the relay (unsent rows, then marks them) and the HTTP stream (rows after a key). */
export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  /** Unsent rows in stream order, only from transactions older than every one still running. */
  async unsent(limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query(
      `select ${ROW_COLUMNS} from outbox
       where sent_at is null and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       order by transaction_id, position
       limit $1`,
      [limit],
    );
    return rows.map(toOutboxRow);
  }

  async markSent(positions: number[]): Promise<void> {
    await this.pool.query('update outbox set sent_at = now() where position = any($1::bigint[]) and sent_at is null', [positions]);
  }

  /** Rows after `after` (and up to `upTo`, when given) in stream order, matching the filter. */
  async readAfter(after: StreamKey, limit: number, filter: StreamFilter = {}, upTo?: StreamKey): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query(
      `select ${ROW_COLUMNS} from outbox
       where (transaction_id, position) > ($1::xid8, $2::bigint)
         and transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         and ($3::xid8 is null or (transaction_id, position) <= ($3::xid8, $4::bigint))
         and ($5::text is null or timeline_id = $5)
         and ($6::text[] is null or change_type = any($6::text[]))
       order by transaction_id, position
       limit $7`,
      [
        after.transactionId.toString(),
        after.position,
        upTo?.transactionId.toString() ?? null,
        upTo?.position ?? null,
        filter.timelineId ?? null,
        filter.changeTypes ?? null,
        limit,
      ],
    );
    return rows.map(toOutboxRow);
  }

  /** The key of the last row every reader can see now: "from now" starts after it. */
  async head(): Promise<StreamKey> {
    const { rows } = await this.pool.query(
      `select transaction_id::text as transaction_id, position from outbox
       where transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       order by transaction_id desc, position desc
       limit 1`,
    );
    return rows.length ? toStreamKey(rows[0]) : STREAM_START;
  }

  /** The key of the row at `position`, or null when readers cannot see such a row (yet). */
  async keyAt(position: number): Promise<StreamKey | null> {
    const { rows } = await this.pool.query(
      `select transaction_id::text as transaction_id, position from outbox
       where position = $1 and transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
      [position],
    );
    return rows.length ? toStreamKey(rows[0]) : null;
  }

  /** The relay lease, or null when another relay holds it. */
  async tryRelayLease(): Promise<RelayLease | null> {
    const client: PoolClient = await this.pool.connect();
    let held = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>(
        'select pg_try_advisory_lock($1, hashtext(current_schema())) as locked',
        [RELAY_LOCK_KEY],
      );
      held = rows[0].locked;
    } finally {
      if (!held) client.release();
    }
    if (!held) return null;
    const lease = { held: true, release: async () => undefined };
    let released = false;
    const lose = () => {
      lease.held = false;
    };
    client.on('error', lose);
    lease.release = async () => {
      lose();
      // Idempotent: the pool throws on a second release of a connection, and a lease is released both
      // when its connection is lost and again at shutdown.
      if (released) return;
      released = true;
      client.off('error', lose);
      // Destroying the connection drops the lock with it, also if the unlock would fail.
      client.release(true);
    };
    return lease;
  }
}

function toStreamKey(row: { transaction_id: string; position: number }): StreamKey {
  return { transactionId: BigInt(row.transaction_id), position: row.position };
}

function toOutboxRow(row: Record<string, any>): OutboxRow {
  return {
    ...toStreamKey(row as { transaction_id: string; position: number }),
    timelineId: row.timeline_id,
    changeType: row.change_type,
    commandId: row.command_id,
    changeIndex: row.change_index,
    change: row.payload,
    traceparent: row.traceparent,
  };
}
