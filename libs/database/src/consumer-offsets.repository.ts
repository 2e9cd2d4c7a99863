import { Injectable } from '@nestjs/common';
import { Pool, type PoolClient } from 'pg';
import { quoteIdentifier } from './migrations';

/**
 * Where the projector stands in each partition of a topic, stored beside the
 * read models. Written only in the projector's batch transactions
 * (ProjectionRepository); read here, by everyone else.
 */
@Injectable()
export class ConsumerOffsetsRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * Each partition's next offset to decide. From the pool's own schema, or from
   * `schema` (a rebuild's); on the pool, or on `client` (inside a transaction).
   */
  async nextOffsets(topic: string, { schema, client = this.pool }: { schema?: string; client?: Pool | PoolClient } = {}): Promise<Map<number, number>> {
    const table = schema === undefined ? 'consumer_offsets' : `${quoteIdentifier(schema)}.consumer_offsets`;
    const { rows } = await client.query<{ partition: number; next_offset: number }>(`select partition, next_offset from ${table} where topic = $1`, [topic]);
    return new Map(rows.map((row) => [row.partition, row.next_offset]));
  }
}
