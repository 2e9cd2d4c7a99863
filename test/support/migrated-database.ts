import { createPool, runMigrations } from '@timeline/database';
import type { Pool } from 'pg';
import { createTestDatabase } from './test-database';

export interface MigratedDatabase {
  url: string;
  /** Works in `schema`, as the service's pool does. */
  pool: Pool;
  schema: string;
  /** Ends the pool and drops the database. */
  drop(): Promise<void>;
}

/** A database of this test file's own with the migrations applied to `schema`: for tests of the repositories. */
export async function createMigratedDatabase(schema = 'timeline'): Promise<MigratedDatabase> {
  const database = await createTestDatabase();
  const pool = createPool({ url: database.url, schema, poolSize: 4, applicationName: 'int-test' });
  await runMigrations(pool, schema);
  return {
    url: database.url,
    pool,
    schema,
    drop: async () => {
      await pool.end();
      await database.drop();
    },
  };
}
