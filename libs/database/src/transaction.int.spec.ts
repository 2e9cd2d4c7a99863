import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { withTransaction } from './transaction';

describe('withTransaction', () => {
  let database: MigratedDatabase;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    await database.pool.query('create table notes (note text not null)');
  });
  afterAll(() => database?.drop());

  const notes = async () => (await database.pool.query<{ note: string }>('select note from notes')).rows.map((row) => row.note);
  const connectionsLent = () => database.pool.totalCount - database.pool.idleCount;

  test('commits what the work wrote when it resolves, and answers with its result', async () => {
    const result = await withTransaction(database.pool, async (client) => {
      await client.query(`insert into notes values ('committed')`);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await notes()).toContain('committed');
    expect(connectionsLent()).toBe(0);
  });

  test('rolls back everything the work wrote when it throws, and throws its error', async () => {
    const failure = new Error('the work failed');
    const work = withTransaction(database.pool, async (client) => {
      await client.query(`insert into notes values ('rolled back')`);
      throw failure;
    });
    await expect(work).rejects.toBe(failure);
    expect(await notes()).not.toContain('rolled back');
    expect(connectionsLent()).toBe(0);
  });

  test('rolls back the statements before one the database refuses, and throws the database error', async () => {
    const work = withTransaction(database.pool, async (client) => {
      await client.query(`insert into notes values ('before the refused one')`);
      await client.query('insert into notes values (null)');
    });
    await expect(work).rejects.toMatchObject({ code: '23502' }); // not_null_violation
    expect(await notes()).not.toContain('before the refused one');
  });

  test('on a connection it is given, runs the transaction there and leaves the connection, session and all, to its holder', async () => {
    const held = await database.pool.connect();
    try {
      await held.query(`set application_name = 'holder'`);
      const work = withTransaction(held, async (client) => {
        expect(client).toBe(held);
        await client.query(`insert into notes values ('on the held connection')`);
        throw new Error('undone');
      });
      await expect(work).rejects.toThrow('undone');
      const { rows } = await held.query<{ name: string }>(`select current_setting('application_name') as name`);
      expect(rows[0].name).toBe('holder');
    } finally {
      held.release();
    }
    expect(await notes()).not.toContain('on the held connection');
  });
});
