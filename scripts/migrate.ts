/** Applies pending migrations to DATABASE_URL / DATABASE_SCHEMA (the apps also do this at start-up). */
import { configFromEnvironmentOrExit } from '@timeline/config';
import { createPool, ensureDatabase, runMigrations } from '@timeline/database';

async function main(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  await ensureDatabase(config.database.url);
  const pool = createPool({ ...config.database, applicationName: 'timeline-migrate' });
  try {
    const applied = await runMigrations(pool, config.database.schema);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'migrations: up to date');
  } finally {
    await pool.end();
  }
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
