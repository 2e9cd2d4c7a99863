import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import type { DecisionColumns, DecisionRow } from './decision.repository';
import type { PartitionFailure } from './projection.repository';

/** A failing partition as its projector last recorded it. */
export interface FailingPartitionStatus extends PartitionFailure {
  lastFailedAt: string;
}

/** Decisions of a recent window, counted by outcome and (for rejections) reason. */
export interface DecisionCount {
  outcome: DecisionRow['outcome'];
  /** Null for accepted decisions. */
  reason: string | null;
  count: number;
}

export type RecentRejection = Pick<
  DecisionRow,
  'commandId' | 'commandType' | 'timelineId' | 'eventId' | 'reason' | 'detail' | 'knownAt' | 'partition' | 'offset'
>;

/** A schema a read-model rebuild replays into, and how far it has got in each partition. */
export interface RebuildPosition {
  schema: string;
  /** Partition → next offset to replay; empty while its tables are being created. */
  offsets: Map<number, number>;
}

/**
 * What the ops page shows about decisions. Every query is a range scan of an
 * index on decisions.known_at (migration 20261202T1000), bounded by a window
 * or a limit, so the page can poll it every second or two.
 */
@Injectable()
export class OpsStatusRepository {
  constructor(
    private readonly pool: Pool,
    private readonly consumerOffsets: ConsumerOffsetsRepository,
  ) {}

  /** Decisions whose command was appended in the last `seconds` (decisions_by_known_at). */
  async decisionsInLast(seconds: number): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>(
      `select count(*)::int as count
         from decisions
        where known_at > now() - make_interval(secs => $1)`,
      [seconds],
    );
    return rows[0].count;
  }

  /** Decisions of the last `seconds` by outcome and reason (decisions_by_known_at). */
  async decisionCounts(seconds: number): Promise<DecisionCount[]> {
    const { rows } = await this.pool.query<DecisionCount>(
      `select outcome, reason, count(*)::int as count
         from decisions
        where known_at > now() - make_interval(secs => $1)
        group by outcome, reason
        order by count desc, outcome, reason`,
      [seconds],
    );
    return rows;
  }

  /** Partitions whose projector transactions fail now (partition_failures, a row per failing partition). */
  async failingPartitions(topic: string): Promise<FailingPartitionStatus[]> {
    type Columns = { partition: number; failure_class: string; error: string; since: Date; last_failed_at: Date; attempts: number };
    const { rows } = await this.pool.query<Columns>(
      `select partition, failure_class, error, since, last_failed_at, attempts
         from partition_failures
        where topic = $1
        order by partition`,
      [topic],
    );
    return rows.map((row) => ({
      partition: row.partition,
      failureClass: row.failure_class,
      error: row.error,
      since: row.since.toISOString(),
      lastFailedAt: row.last_failed_at.toISOString(),
      attempts: row.attempts,
    }));
  }

  /** The latest rejections, newest first (decisions_rejected_by_known_at). */
  async recentRejections(limit: number): Promise<RecentRejection[]> {
    const { rows } = await this.pool.query<DecisionColumns>(
      `select command_id, command_type, timeline_id, event_id, reason, detail, known_at, topic_partition, topic_offset
         from decisions
        where outcome = 'rejected'
        order by known_at desc
        limit $1`,
      [limit],
    );
    return rows.map((row) => ({
      commandId: row.command_id,
      commandType: row.command_type,
      timelineId: row.timeline_id,
      eventId: row.event_id,
      reason: row.reason,
      detail: row.detail,
      knownAt: row.known_at.toISOString(),
      partition: row.topic_partition,
      offset: row.topic_offset,
    }));
  }

  /**
   * Schemas named `<live schema>_rebuild_<stamp>`, as the rebuild names the one it
   * replays into, with their stored offsets: the rebuild's progress, read from
   * PostgreSQL whichever projector runs it. A failed rebuild leaves its schema,
   * which then shows here without advancing.
   */
  async rebuildPositions(liveSchema: string, topic: string): Promise<RebuildPosition[]> {
    const { rows } = await this.pool.query<{ schema: string }>(
      `select nspname as schema
         from pg_namespace
        where nspname like $1 escape '\\'
        order by nspname`,
      [`${liveSchema.replace(/[\\%_]/g, '\\$&')}\\_rebuild\\_%`],
    );
    return Promise.all(rows.map(async ({ schema }) => ({ schema, offsets: await this.storedOffsets(schema, topic) })));
  }

  private async storedOffsets(schema: string, topic: string): Promise<Map<number, number>> {
    try {
      return await this.consumerOffsets.nextOffsets(topic, { schema });
    } catch (error) {
      // 42P01: the rebuild has created its schema but not yet its tables.
      if ((error as { code?: string }).code === '42P01') return new Map();
      throw error;
    }
  }
}
