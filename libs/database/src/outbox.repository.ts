import { Injectable } from '@nestjs/common';
import type { AsJson, ChangeType, TimelineChange } from '@timeline/domain';
import { Pool, type PoolClient, type QueryConfig } from 'pg';

/**
 * An accepted change waiting in the outbox. Positions are taken in commit order, under a lock
 * (the function apply_batch, ProjectionRepository.applyBatch): a row that becomes visible later always has a higher position
 * than every row visible now, so every reader goes in position order and nothing is skipped.
 */
export interface OutboxRow {
  position: number;
  timelineId: string;
  changeType: ChangeType;
  commandId: string;
  changeIndex: number;
  change: AsJson<TimelineChange>;
  traceparent: string | null;
}

export interface StreamFilter {
  timelineId?: string;
  changeTypes?: ChangeType[];
}

/** Holds the relay's advisory lock on a connection of its own; the lock goes when the connection does. */
export interface RelayLease {
  readonly held: boolean;
  /**
   * Asks the database, on the lease's own connection, whether the lock is still ours. A connection
   * the server has ended while no packet reached us (a half-open socket) raises no error by itself:
   * meanwhile another relay may hold the lock. False, or no answer within `timeoutMs`, loses the lease.
   */
  confirm(timeoutMs: number): Promise<boolean>;
  release(): Promise<void>;
}

// Any constant works; the second key is the schema, so that services sharing a database do not share a relay.
const RELAY_LOCK_KEY = 7_353_002;

const ROW_COLUMNS = 'position, timeline_id, change_type, command_id, change_index, payload, traceparent';

/** The outbox's readers: the relay (unsent rows, then marks them) and the HTTP stream (rows after a position). */
@Injectable()
export class OutboxRepository {
  constructor(private readonly pool: Pool) {}

  /** Unsent rows in position order. */
  async unsent(limit: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxColumns>(`select ${ROW_COLUMNS} from outbox where sent_at is null order by position limit $1`, [limit]);
    return rows.map(toOutboxRow);
  }

  async markSent(positions: number[]): Promise<void> {
    await this.pool.query('update outbox set sent_at = now() where position = any($1::bigint[]) and sent_at is null', [positions]);
  }

  /** Rows after `after` (and up to `upTo`, when given) in position order, matching the filter. */
  async readAfter(after: number, limit: number, filter: StreamFilter = {}, upTo?: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxColumns>(
      `select ${ROW_COLUMNS} from outbox
       where position > $1 and ($2::bigint is null or position <= $2)
         and ($3::text is null or timeline_id = $3)
         and ($4::text[] is null or change_type = any($4::text[]))
       order by position
       limit $5`,
      [after, upTo ?? null, filter.timelineId ?? null, filter.changeTypes ?? null, limit],
    );
    return rows.map(toOutboxRow);
  }

  /**
   * A page of a stream's catch-up: rows after `after` up to `upTo` (the feed's head, read on the primary), and
   * the position the page is complete up to when it is not full. On a replica that has not yet replayed up to
   * `upTo`, that is its own last row, read in the page's snapshot: rows become visible in position order
   * (see OutboxRow), so no row up to it can appear later, and the caller goes on from there.
   */
  async catchUpPage(after: number, limit: number, filter: StreamFilter, upTo: number): Promise<{ rows: OutboxRow[]; completeUpTo: number }> {
    const { rows } = await this.pool.query<{ complete_up_to: number } & Partial<OutboxColumns>>(
      `with visible as (select least($2::bigint, coalesce(max(position), 0)) as up_to from outbox)
       select visible.up_to as complete_up_to, page.*
       from visible left join lateral (
         select ${ROW_COLUMNS} from outbox
         where position > $1 and position <= visible.up_to
           and ($3::text is null or timeline_id = $3)
           and ($4::text[] is null or change_type = any($4::text[]))
         order by position
         limit $5
       ) page on true
       order by page.position`,
      [after, upTo, filter.timelineId ?? null, filter.changeTypes ?? null, limit],
    );
    return {
      rows: rows.filter((row): row is typeof row & OutboxColumns => row.position != null).map(toOutboxRow),
      completeUpTo: rows[0].complete_up_to,
    };
  }

  /** The last position readers can see now: "from now" starts after it. */
  async head(): Promise<number> {
    const { rows } = await this.pool.query<{ head: number }>('select coalesce(max(position), 0) as head from outbox');
    return rows[0].head;
  }

  /**
   * Where to go on after the row at `position` (a resume token), or null when there is no such row.
   * Rows written before positions were taken under a lock (migration 20261203T1000, the rows that
   * keep a transaction id) were read in (transaction id, position) order, in which a row with a
   * lower position could come later. A token naming one of them goes on before the first such row,
   * so that a client that read in either order misses nothing; it may get a few changes again
   * (subscribers drop duplicates by CloudEvents id).
   */
  async resumeAfter(position: number): Promise<number | null> {
    const { rows } = await this.pool.query<{ resume_after: number }>(
      `select least(
                named.position,
                (select min(later.position) - 1 from outbox later
                 where named.transaction_id is not null and later.transaction_id is not null
                   and (later.transaction_id, later.position) > (named.transaction_id, named.position))
              ) as resume_after
       from outbox named
       where named.position = $1`,
      [position],
    );
    return rows.length ? rows[0].resume_after : null;
  }

  /** The relay lease, or null when another relay holds it. */
  async tryRelayLease(): Promise<RelayLease | null> {
    const client: PoolClient = await this.pool.connect();
    let held = false;
    try {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1, hashtext(current_schema())) as locked', [RELAY_LOCK_KEY]);
      held = rows[0].locked;
    } finally {
      if (!held) client.release();
    }
    if (!held) return null;
    let released = false;
    const lease: RelayLease & { held: boolean } = {
      held: true,
      confirm: async (timeoutMs) => {
        if (!lease.held) return false;
        try {
          const { rows } = await client.query<{ held: boolean }>({
            text: `select exists (
                     select 1 from pg_locks
                     where locktype = 'advisory' and pid = pg_backend_pid() and granted
                       and classid = $1::int4::oid and objid = hashtext(current_schema())::oid and objsubid = 2
                   ) as held`,
            values: [RELAY_LOCK_KEY],
            query_timeout: timeoutMs,
          } as QueryConfig);
          if (rows[0].held) return true;
        } catch {
          // Unanswered or failed: the lock cannot be counted on.
        }
        await lease.release();
        return false;
      },
      release: async () => {
        lose();
        // Idempotent: the pool throws on a second release of a connection, and a lease is released both
        // when its connection is lost and again at shutdown.
        if (released) return;
        released = true;
        client.off('error', lose);
        // Destroying the connection drops the lock with it, also if the unlock would fail.
        client.release(true);
      },
    };
    const lose = () => {
      lease.held = false;
    };
    client.on('error', lose);
    return lease;
  }
}

/** An outbox row as pg hands it over (bigint as number, by pool.ts). */
interface OutboxColumns {
  position: number;
  timeline_id: string;
  change_type: ChangeType;
  command_id: string;
  change_index: number;
  payload: AsJson<TimelineChange>;
  traceparent: string | null;
}

function toOutboxRow(row: OutboxColumns): OutboxRow {
  return {
    position: row.position,
    timelineId: row.timeline_id,
    changeType: row.change_type,
    commandId: row.command_id,
    changeIndex: row.change_index,
    change: row.payload,
    traceparent: row.traceparent,
  };
}
