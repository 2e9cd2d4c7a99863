import { startEmbeddedPostgres } from '@timeline/dev-stack';

/**
 * The int tier's global setup: its tests need PostgreSQL and no broker. The server TEST_DATABASE_URL names,
 * or else one throw-away embedded server for the run, which global-teardown.ts stops; each test file
 * creates a database of its own on it.
 */
export default async function intGlobalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  globalThis.testPostgres = await startEmbeddedPostgres();
  process.env.TEST_DATABASE_URL = globalThis.testPostgres.url;
}
