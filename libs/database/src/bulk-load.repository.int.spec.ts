import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createPool, runMigrations } from '@timeline/database';
import { commandSchema, type TimelineCommand } from '@timeline/domain';
import { reportedStatement } from '@timeline/dev-stack';
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { commands, projectRecords, recordOf } from '../../../test/support/projected-commands';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database';
import { BulkLoadRepository } from './bulk-load.repository';
import { ProjectionRepository } from './projection.repository';
import { ReadModelSwitchRepository } from './read-model-switch.repository';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';

/** The same commands, projected batch by batch into a schema loaded as usual and into one loaded in bulk. */
const KNOWN_AT = Date.parse('2026-01-10T09:00:00.000Z');
const project = (pool: Pool, batch: TimelineCommand[]) => projectRecords(new ProjectionRepository(pool), batch.map(recordOf), { timestamp: KNOWN_AT });
const kishida = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'Prime minister' };
const japan = { id: 'jp', name: 'Japan', role: 'participant' };
/** An event naming actors: their keys are what the trigger (or the bulk load's end) writes. */
const recordEvent = (timelineId: string, n: number, actors = [kishida, japan]): TimelineCommand => {
  const { eventId, ...statement } = reportedStatement(n);
  return commandSchema.parse({ type: 'RecordEvent', commandId: randomUUID(), timelineId, eventId, event: { ...statement, actors } });
};
const batches = [
  [commands.createTimeline('bulk-a'), commands.createTimeline('bulk-b')],
  [recordEvent('bulk-a', 1), recordEvent('bulk-a', 2, [japan]), commands.recordEvent('bulk-b', 3)],
  [recordEvent('bulk-b', 4, [kishida]), recordEvent('bulk-a', 5)],
];

describe('a replay loaded in bulk', () => {
  let database: TestDatabase;
  let usual: Pool;
  let bulk: Pool;
  const indexesOf = async (schema: string) =>
    (
      await usual.query<{ indexname: string; indexdef: string }>('select indexname, indexdef from pg_indexes where schemaname = $1 order by indexname', [
        schema,
      ])
    ).rows;
  const ginIndexesOf = async (schema: string) => (await indexesOf(schema)).filter((index) => index.indexdef.includes(' USING gin '));
  const actorKeysOf = async (pool: Pool) =>
    (await pool.query('select actor_key, valid_lower, event_id, revision from event_revision_actor_keys order by 1, 2, 3, 4')).rows;

  beforeAll(async () => {
    database = await createTestDatabase();
    usual = createPool({ url: database.url, schema: 'usual', poolSize: 2, applicationName: 'int-test' });
    bulk = createPool({ url: database.url, schema: 'bulk', poolSize: 2, applicationName: 'int-test' });
    await runMigrations(usual, 'usual');
    await runMigrations(bulk, 'bulk');
  });
  afterAll(async () => {
    await usual?.end();
    await bulk?.end();
    await database?.drop();
  });

  test('drops the GIN indexes and stops the actor-key trigger; finishing builds them as the migrations made them, with the same rows as loading as usual', async () => {
    const migrated = await indexesOf('bulk');
    expect((await ginIndexesOf('bulk')).length).toBeGreaterThan(0);
    const repository = new BulkLoadRepository(bulk);

    const deferred = await repository.begin('bulk');
    expect(deferred.indexes).toEqual((await ginIndexesOf('usual')).map((index) => index.indexdef.replace(' usual.', ' bulk.')));
    expect(await ginIndexesOf('bulk')).toEqual([]);
    for (const batch of batches) {
      await project(usual, batch);
      await project(bulk, batch);
    }
    // While loading, the trigger adds nothing: the keys come at the end.
    expect(await actorKeysOf(bulk)).toEqual([]);
    expect((await actorKeysOf(usual)).length).toBeGreaterThan(0);

    await repository.finish(deferred);

    expect(await indexesOf('bulk')).toEqual(migrated);
    expect(await actorKeysOf(bulk)).toEqual(await actorKeysOf(usual));
    const switcher = new ReadModelSwitchRepository(usual, new ConsumerOffsetsRepository(usual));
    const [usualSums, bulkSums] = await switcher.checksums(['usual', 'bulk']);
    expect(bulkSums).toEqual(usualSums);
    // The trigger is back: a later batch adds its keys as usual.
    const later = [recordEvent('bulk-a', 6)];
    await project(usual, later);
    await project(bulk, later);
    expect(await actorKeysOf(bulk)).toEqual(await actorKeysOf(usual));
  });
});
