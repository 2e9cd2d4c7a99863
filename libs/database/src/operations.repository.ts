import { Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';

/** Where the projector stands in one partition of timeline.commands. */
export interface PartitionPosition {
  partition: number;
  /** The next offset to decide. */
  nextOffset: number;
  /** Kafka timestamp (ms) of the last record decided, or null when none was. */
  lastDecidedAt: number | null;
}

/** Cheap reads for metrics, readiness and the ops status: each one is a few index lookups. */
@Injectable()
export class OperationsRepository {
  constructor(
    private readonly pool: Pool,
    private readonly consumerOffsets: ConsumerOffsetsRepository,
  ) {}

  /** Per partition: the stored offset and the time of the last decided record (unique index on partition, offset). */
  async partitionPositions(topic: string): Promise<Map<number, PartitionPosition>> {
    const offsets = await this.consumerOffsets.nextOffsets(topic);
    const { rows } = await this.pool.query<{ partition: number; next_offset: number; last_decided_at: number | null }>(
      `select o.partition, o.next_offset,
              (select extract(epoch from d.known_at)::float8 * 1000
                 from decisions d
                where d.topic_partition = o.partition and d.topic_offset < o.next_offset
                order by d.topic_offset desc
                limit 1) as last_decided_at
         from unnest($1::int[], $2::bigint[]) as o(partition, next_offset)`,
      [[...offsets.keys()], [...offsets.values()]],
    );
    return new Map(rows.map((row) => [row.partition, { partition: row.partition, nextOffset: row.next_offset, lastDecidedAt: row.last_decided_at }]));
  }

  /** Outbox rows not yet published and the age of the oldest; reads only unsent rows (partial index). */
  async relayBacklog(): Promise<{ records: number; oldestSeconds: number }> {
    const { rows } = await this.pool.query<{ records: number; oldest_seconds: number }>(
      `select count(*)::int as records,
              coalesce(extract(epoch from now() - min(known_at)), 0)::float8 as oldest_seconds
         from outbox
        where sent_at is null`,
    );
    return { records: rows[0].records, oldestSeconds: Math.max(0, rows[0].oldest_seconds) };
  }
}
