import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** The run's PostgreSQL server: TEST_DATABASE_URL, set by the caller or, to the embedded server it started, by the global setup. */
export function testDatabaseServerUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: run through jest, whose global setup starts a PostgreSQL');
  return url;
}

/**
 * A database of its own for one test file, dropped afterwards; it never touches a dev database. Created on
 * the run's server, or on `serverUrl`, a server the test brought.
 */
export async function createTestDatabase(serverUrl = testDatabaseServerUrl()): Promise<TestDatabase> {
  const name = `timeline_test_${randomBytes(6).toString('hex')}`;
  await withAdmin(serverUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => withAdmin(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

async function withAdmin<T>(serverUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
