import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, type Pool } from 'pg';
import { withTransaction } from './transaction';

const MIGRATIONS_DIR = join(__dirname, 'migrations');
// Any constant works; it keeps two processes from migrating the same database at once.
const MIGRATION_LOCK_KEY = 7_353_001;

export interface Migration {
  name: string;
  sql: string;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => ({ name: file.replace(/\.sql$/, ''), sql: readFileSync(join(dir, file), 'utf8') }));
}

/** Creates the database named in the URL if it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`create database ${quoteIdentifier(name)}`).catch((error: { code?: string }) => {
        // Created meanwhile by another process: 42P04 (exists) or 23505 (lost the race on pg_database).
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Applies the migrations not yet applied to `schema`, each in its own transaction. Returns their names. */
export async function runMigrations(pool: Pool, schema: string): Promise<string[]> {
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    // A migration may rebuild an index of a large table; the pool's statement timeout is for the service's queries.
    await client.query('set statement_timeout = 0');
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`create schema if not exists ${quoteIdentifier(schema)}`);
    await client.query(`set search_path to ${quoteIdentifier(schema)}`);
    await client.query('create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())');
    const { rows } = await client.query<{ name: string }>('select name from schema_migrations');
    const done = new Set(rows.map((row) => row.name));
    for (const migration of listMigrations()) {
      if (done.has(migration.name)) continue;
      try {
        await withTransaction(client, async () => {
          await client.query(migration.sql);
          await client.query('insert into schema_migrations (name) values ($1)', [migration.name]);
        });
      } catch (error) {
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.name);
    }
    return applied;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.query('reset search_path').catch(() => undefined);
    await client.query('reset statement_timeout').catch(() => undefined);
    client.release();
  }
}

/** True when every migration shipped with this build has been applied to `schema`. */
export async function migrationsAreCurrent(pool: Pool, schema: string): Promise<boolean> {
  const { rows } = await pool.query<{ name: string }>(`select name from ${quoteIdentifier(schema)}.schema_migrations`);
  const done = new Set(rows.map((row) => row.name));
  return listMigrations().every((migration) => done.has(migration.name));
}

export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
