import { Injectable } from '@nestjs/common';
import { Pool, type PoolClient } from 'pg';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { quoteIdentifier } from './migrations';
import { withTransaction } from './transaction';

/**
 * What a read-model checksum covers: every table the projector writes, each
 * row as JSON of the columns both schemas have (a rebuild for a schema change
 * adds columns; everything the two share must be equal), summed as 60-bit
 * hashes (order-independent, no huge strings). Outbox positions, transaction
 * ids and send state differ by design between a live schema and a rebuilt one.
 */
const CHECKSUMMED_TABLES = ['timelines', 'events', 'event_revisions', 'event_revision_actor_keys', 'decisions', 'outbox', 'consumer_offsets', 'redactions'];
const UNCOMPARED_COLUMNS: Record<string, string[]> = { outbox: ['position', 'transaction_id', 'sent_at'] };

export interface TableChecksum {
  rows: number;
  sum: string;
}
export type ReadModelChecksum = Record<string, TableChecksum>;

export interface SwitchOutcome {
  switched: boolean;
  liveChecksum: ReadModelChecksum;
  rebuiltChecksum: ReadModelChecksum;
  retiredSchema: string;
}

/**
 * Switches reads from a live read-model schema to a rebuilt one: renames are
 * transactional, so every reader sees either the old schema or the new one.
 */
@Injectable()
export class ReadModelSwitchRepository {
  constructor(
    private readonly pool: Pool,
    private readonly consumerOffsets: ConsumerOffsetsRepository,
  ) {}

  /** Checksums of `schemas`, each over the columns all of them have. */
  async checksums(schemas: string[], client: Pool | PoolClient = this.pool): Promise<ReadModelChecksum[]> {
    const results: ReadModelChecksum[] = schemas.map(() => ({}));
    for (const table of CHECKSUMMED_TABLES) {
      const columns = await this.sharedColumns(schemas, table, client);
      const row = `jsonb_build_object(${columns.map((column) => `'${column}', t.${quoteIdentifier(column)}`).join(', ')})`;
      for (const [index, schema] of schemas.entries()) {
        const { rows } = await client.query<{ rows: number; sum: string | null }>(
          `select count(*)::int as rows,
                  sum(('x' || left(md5(${row}::text), 15))::bit(60)::bigint)::text as sum
           from ${quoteIdentifier(schema)}.${table} t`,
        );
        results[index][table] = { rows: rows[0].rows, sum: rows[0].sum ?? '0' };
      }
    }
    return results;
  }

  private async sharedColumns(schemas: string[], table: string, client: Pool | PoolClient): Promise<string[]> {
    const { rows } = await client.query<{ column_name: string }>(
      `select column_name from information_schema.columns
       where table_schema = any($1::text[]) and table_name = $2
       group by column_name having count(*) = $3
       order by column_name`,
      [schemas, table, schemas.length],
    );
    const skipped = UNCOMPARED_COLUMNS[table] ?? [];
    return rows.map((row) => row.column_name).filter((column) => !skipped.includes(column));
  }

  /**
   * Freezes the live schema's projector (it waits for the lock at its next
   * batch), then calls `catchUp(liveOffsets)` with its offsets in `topic`,
   * which must bring the rebuilt schema to exactly those offsets. If both checksums are then equal, the
   * rebuilt schema takes the live one's name and outbox (positions and send
   * state, so the relay and stream go on where they were); the live one is
   * kept as `retiredSchema`. Otherwise nothing changes.
   */
  async switchTo(
    topic: string,
    liveSchema: string,
    rebuiltSchema: string,
    retiredSchema: string,
    catchUp: (liveOffsets: Map<number, number>) => Promise<void>,
  ): Promise<SwitchOutcome> {
    const live = quoteIdentifier(liveSchema);
    const rebuilt = quoteIdentifier(rebuiltSchema);
    return withTransaction(this.pool, async (client) => {
      // Every projector batch of the schema holds this lock shared (the function apply_batch): taken here, it freezes them.
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [liveSchema]);
      await catchUp(await this.consumerOffsets.nextOffsets(topic, { schema: liveSchema, client }));
      const [liveChecksum, rebuiltChecksum] = await this.checksums([liveSchema, rebuiltSchema], client);
      // Nothing is written before this point: ending the transaction here, with its commit, changes nothing.
      if (JSON.stringify(liveChecksum) !== JSON.stringify(rebuiltChecksum)) {
        return { switched: false, liveChecksum, rebuiltChecksum, retiredSchema };
      }
      await client.query(`delete from ${rebuilt}.outbox`);
      const outboxColumns = (
        await this.sharedColumns([liveSchema, rebuiltSchema], 'outbox', client).then((shared) => [...shared, ...UNCOMPARED_COLUMNS.outbox])
      )
        .map(quoteIdentifier)
        .join(', ');
      await client.query(`insert into ${rebuilt}.outbox (${outboxColumns}) select ${outboxColumns} from ${live}.outbox`);
      // New positions go on above every position handed out so far: readers' cursors stay valid.
      await client.query(`update ${rebuilt}.outbox_head set last_position = (select last_position from ${live}.outbox_head)`);
      await client.query(`alter schema ${live} rename to ${quoteIdentifier(retiredSchema)}`);
      await client.query(`alter schema ${rebuilt} rename to ${live}`);
      return { switched: true, liveChecksum, rebuiltChecksum, retiredSchema };
    });
  }

  async dropSchema(schema: string): Promise<void> {
    await this.pool.query(`drop schema ${quoteIdentifier(schema)} cascade`);
  }
}
