import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { commands, projectCommands } from '../../../test/support/projected-commands';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { runMigrations } from './migrations';
import { OperationsRepository } from './operations.repository';
import { ProjectionRepository } from './projection.repository';
import { withTransaction } from './transaction';

const REBUILD_SCHEMA = 'timeline_rebuild_20261201070000';

describe('the stored consumer offsets', () => {
  let database: MigratedDatabase;
  let offsets: ConsumerOffsetsRepository;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    await runMigrations(database.pool, REBUILD_SCHEMA);
    offsets = new ConsumerOffsetsRepository(database.pool);
    await database.pool.query(
      `insert into consumer_offsets (topic, partition, next_offset) values ('commands', 0, 5), ('commands', 1, 7), ('other', 0, 99);
       insert into "${REBUILD_SCHEMA}".consumer_offsets (topic, partition, next_offset) values ('commands', 0, 2)`,
    );
  });
  afterAll(() => database?.drop());

  test("each partition's next offset in the topic, from the pool's schema", async () => {
    expect(await offsets.nextOffsets('commands')).toEqual(
      new Map([
        [0, 5],
        [1, 7],
      ]),
    );
    expect(await offsets.nextOffsets('unknown')).toEqual(new Map());
  });

  test('from the schema named, such as a rebuild', async () => {
    expect(await offsets.nextOffsets('commands', { schema: REBUILD_SCHEMA })).toEqual(new Map([[0, 2]]));
  });

  test("on a transaction's connection: what it wrote and has not committed yet", async () => {
    await withTransaction(database.pool, async (client) => {
      await client.query(`update consumer_offsets set next_offset = 6 where topic = 'commands' and partition = 0`);
      expect((await offsets.nextOffsets('commands', { client })).get(0)).toBe(6);
      expect((await offsets.nextOffsets('commands')).get(0)).toBe(5);
    });
    expect((await offsets.nextOffsets('commands')).get(0)).toBe(6);
  });

  test('the projection lag reads them with the time of the last record decided below each', async () => {
    const before = Date.now();
    await projectCommands(new ProjectionRepository(database.pool), [commands.createTimeline('lag-a'), commands.createTimeline('lag-b')], 3);
    const positions = await new OperationsRepository(database.pool, offsets).partitionPositions('timeline.commands');
    expect([...positions.keys()]).toEqual([3]);
    expect(positions.get(3)).toMatchObject({ partition: 3, nextOffset: 2 });
    expect(positions.get(3)!.lastDecidedAt).toBeGreaterThanOrEqual(before - 1);
  });
});
