import { Pool } from 'pg';
import { quoteIdentifier } from './migrations';
import { withTransaction } from './transaction';

/** What `BulkLoadRepository.begin` put off, for `finish` to make. */
export interface DeferredWork {
  schema: string;
  /** `create index` statements of the indexes dropped, as PostgreSQL printed them. */
  indexes: string[];
}

/**
 * A rebuild's replay as a bulk load. Nothing reads a schema being rebuilt, so the work that only serves
 * queries is done once at the end instead of row by row: its GIN indexes (text, places, topics: the most
 * expensive part of writing a revision) are dropped before the replay and built again after it, and the
 * actor keys that a trigger adds per batch are filled in one statement. B-tree indexes stay: the projector's
 * own statements (conflict targets, the checks of `apply_batch`, a redaction's look-ups) use them.
 */
export class BulkLoadRepository {
  constructor(private readonly pool: Pool) {}

  /** Call before the first batch of the replay into `schema` (just migrated, so empty). */
  async begin(schema: string): Promise<DeferredWork> {
    return withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ name: string; definition: string }>(
        `select indexname as name, indexdef as definition from pg_indexes
         where schemaname = $1 and indexdef like '% USING gin %'
         order by indexname`,
        [schema],
      );
      for (const row of rows) await client.query(`drop index ${quoteIdentifier(schema)}.${quoteIdentifier(row.name)}`);
      await client.query(`alter table ${quoteIdentifier(schema)}.event_revisions disable trigger event_revisions_add_actor_keys`);
      return { schema, indexes: rows.map((row) => row.definition) };
    });
  }

  /**
   * Makes what `begin` put off, while the replay goes on: the schema's batches wait for the lock that every
   * `apply_batch` holds shared, so no revision is written between filling the actor keys and the trigger's
   * return, and none waits on a table lock of ours halfway through a batch.
   */
  async finish(deferred: DeferredWork): Promise<void> {
    const schema = quoteIdentifier(deferred.schema);
    await withTransaction(this.pool, async (client) => {
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [deferred.schema]);
      await client.query(`delete from ${schema}.event_revision_actor_keys`);
      await client.query(
        `insert into ${schema}.event_revision_actor_keys (actor_key, valid_lower, event_id, revision)
         select distinct actor_key, r.valid_lower, r.event_id, r.revision
         from ${schema}.event_revisions r, unnest(r.actor_keys) as actor_key`,
      );
      await client.query(`alter table ${schema}.event_revisions enable trigger event_revisions_add_actor_keys`);
      for (const definition of deferred.indexes) await client.query(definition);
    });
  }
}
