import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createPool, listMigrations, OutboxRepository, ProjectionRepository, runMigrations, type BatchToApply } from '@timeline/database';
import type { Pool, PoolClient } from 'pg';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const SCHEMA = 'timeline';
const POSITIONS_UNDER_LOCK = '20261203T1000_outbox_positions_under_lock';

const change = (commandId: string) => ({
  type: 'TimelineCreated',
  commandId,
  timelineId: 'upgrade',
  version: 1,
  knownAt: '2026-12-01T00:00:00.000Z',
  timeline: { title: 'Upgrade', description: '', defaultLanguage: 'it' },
});

/**
 * A schema whose outbox was written before positions were taken under a lock: two transactions
 * interleaved, so that the one with the older transaction id has the higher position. Then the
 * migration, and resume tokens of those rows.
 */
describe('outbox positions taken under a lock: the upgrade of an existing outbox', () => {
  let database: TestDatabase;
  let pool: Pool;
  const positions: Record<'alone' | 'older' | 'younger', number> = { alone: 0, older: 0, younger: 0 };

  /** Writes an outbox row as the projector did before the migration: position from the identity, transaction id by default. */
  const insertTheOldWay = async (client: Pool | PoolClient) =>
    (
      await client.query<{ position: number }>(
        `insert into outbox (timeline_id, change_type, command_id, change_index, payload, known_at)
         values ('upgrade', 'TimelineCreated', $1, 0, $2, now()) returning position`,
        [randomUUID(), change(randomUUID())],
      )
    ).rows[0].position;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = createPool({ url: database.url, schema: SCHEMA, poolSize: 4, applicationName: 'test-outbox-upgrade' });
    const client = await pool.connect();
    try {
      await client.query(`create schema ${SCHEMA}`);
      await client.query('create table schema_migrations (name text primary key, applied_at timestamptz not null default now())');
      for (const migration of listMigrations().filter((migration) => migration.name < POSITIONS_UNDER_LOCK)) {
        await client.query(migration.sql);
        await client.query('insert into schema_migrations (name) values ($1)', [migration.name]);
      }
    } finally {
      client.release();
    }
    positions.alone = await insertTheOldWay(pool);
    const older = await pool.connect();
    const younger = await pool.connect();
    try {
      await older.query('begin');
      await older.query('select pg_current_xact_id()');
      await younger.query('begin');
      await younger.query('select pg_current_xact_id()');
      positions.younger = await insertTheOldWay(younger);
      positions.older = await insertTheOldWay(older);
      await older.query('commit');
      await younger.query('commit');
    } finally {
      older.release();
      younger.release();
    }
    // The order readers used then: alone, older (higher position), younger (lower position).
    expect(positions.alone).toBeLessThan(positions.younger);
    expect(positions.younger).toBeLessThan(positions.older);
    // The upgrade applies this migration and every later one, in name order.
    const later = listMigrations()
      .map((migration) => migration.name)
      .filter((name) => name > POSITIONS_UNDER_LOCK);
    expect(await runMigrations(pool, SCHEMA)).toEqual([POSITIONS_UNDER_LOCK, ...later]);
  });
  afterAll(async () => {
    await pool?.end();
    await database?.drop();
  });

  test('positions go on above those handed out before; rows written before keep theirs', async () => {
    const projection = new ProjectionRepository(pool);
    const commandId = randomUUID();
    const batch: BatchToApply = {
      topic: 'upgrade',
      decidedOn: { undecided: [], timelines: [], events: [] },
      partition: 0,
      firstOffset: 0,
      nextOffset: 1,
      decisions: [],
      timelines: [],
      events: [],
      changes: [{ change: change(commandId) as never, index: 0, traceparent: null }],
      redelivered: [],
    };
    expect(await projection.applyBatch(batch)).toEqual({ kind: 'applied' });
    const { rows } = await pool.query<{ position: number; before: boolean }>(
      'select position, transaction_id is not null as before from outbox order by position',
    );
    expect(rows).toEqual([
      { position: positions.alone, before: true },
      { position: positions.younger, before: true },
      { position: positions.older, before: true },
      { position: positions.older + 1, before: false },
    ]);
    // A writer of an earlier version, which leaves the position to the table, fails with an error the projector retries.
    await expect(insertTheOldWay(pool)).rejects.toMatchObject({ code: '55000' });
  });

  test('a resume token from before the upgrade misses nothing, whichever order its client read in', async () => {
    const outbox = new OutboxRepository(pool);
    const after = async (token: number) => (await outbox.readAfter((await outbox.resumeAfter(token))!, 100)).map((row) => row.position);
    const everything = (await outbox.readAfter(0, 100)).map((row) => row.position);
    expect(everything).toHaveLength(4);
    const latest = everything[3];

    // Read then in (transaction id, position) order: after "older" came "younger", with its lower position.
    expect(await after(positions.older)).toEqual([positions.younger, positions.older, latest]);
    expect(await after(positions.alone)).toEqual([positions.younger, positions.older, latest]);
    // "younger" was the last row in that order, and the first two in position order: nothing after it is left out.
    expect(await after(positions.younger)).toEqual([positions.older, latest]);
    // Tokens of rows written after the upgrade resume right after their position.
    expect(await after(latest)).toEqual([]);
    expect(await outbox.resumeAfter(latest + 1)).toBeNull();
  });
});
