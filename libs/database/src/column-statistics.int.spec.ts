import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { generateDecisionsAndOutbox, generateReadModel } from '../../../scripts/bench/read-model';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';

/**
 * Autoanalyze runs every minute while the tables are young, on the cores the api and the projector use; statistics
 * of a jsonb payload were most of its cost and no query reads them (migration 20261207T2300). The index inventory
 * shows the plans of every query unchanged without them.
 */
describe('column statistics: ANALYZE skips the jsonb payloads', () => {
  let database: MigratedDatabase;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    await generateReadModel(database.pool, 2_000, 20);
    await generateDecisionsAndOutbox(database.pool, { topic: 'timeline.commands', partitions: 3, unsent: 10 });
    await database.pool.query('analyze');
  }, 60_000);

  afterAll(async () => {
    await database.drop();
  });

  test('every jsonb column of the schema has a statistics target of 0, and ANALYZE gathers none for it', async () => {
    const { rows } = await database.pool.query<{ column: string; target: number | null; gathered: boolean }>(
      `select c.relname || '.' || a.attname as column, a.attstattarget as target,
              exists (select 1 from pg_stats s where s.schemaname = n.nspname and s.tablename = c.relname and s.attname = a.attname) as gathered
       from pg_attribute a
       join pg_class c on c.oid = a.attrelid
       join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = current_schema() and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
         and a.atttypid = 'jsonb'::regtype
       order by 1`,
    );
    expect(rows.map((row) => row.column)).toEqual([
      'event_revisions.changed',
      'event_revisions.previous',
      'event_revisions.state',
      'events.state',
      'outbox.payload',
    ]);
    for (const row of rows)
      expect({ column: row.column, target: row.target, gathered: row.gathered }).toEqual({ column: row.column, target: 0, gathered: false });
  });

  test('the columns queries filter and sort on still have their statistics', async () => {
    const { rows } = await database.pool.query<{ column: string }>(
      `select tablename || '.' || attname as column from pg_stats where schemaname = current_schema() order by 1`,
    );
    const gathered = rows.map((row) => row.column);
    for (const column of [
      'event_revisions.timeline_id',
      'event_revisions.valid_lower',
      'event_revisions.search',
      'event_revisions.actor_keys',
      'events.timeline_id',
      'events.valid_lower',
      'outbox.position',
      'decisions.known_at',
    ]) {
      expect(gathered).toContain(column);
    }
  });
});
