import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Client } from 'pg';
import { expectEventually } from './support/eventually';
import { type RunningPostgres, startEmbeddedPostgres } from '@timeline/dev-stack';

const REPO_ROOT = path.resolve(__dirname, '..');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The PostgreSQL that `npm start` and `npm test` bring (scripts/postgres), whatever TEST_DATABASE_URL names. */
describe('embedded PostgreSQL', () => {
  let postgres: RunningPostgres;
  beforeAll(async () => {
    postgres = await startEmbeddedPostgres();
  });
  afterAll(async () => {
    await postgres?.stop();
  });

  test('is PostgreSQL 18 with what the schema needs: btree_gin, and the italian and english text search configurations', async () => {
    const client = new Client({ connectionString: postgres.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ major: number; btree_gin: boolean; configs: string[]; encoding: string }>(`
        select current_setting('server_version_num')::int / 10000 as major,
               exists (select from pg_available_extensions where name = 'btree_gin') as btree_gin,
               array(select cfgname::text from pg_ts_config where cfgname in ('italian', 'english') order by cfgname) as configs,
               pg_encoding_to_char(encoding) as encoding
          from pg_database where datname = current_database()`);
      expect(rows[0]).toEqual({ major: 18, btree_gin: true, configs: ['english', 'italian'], encoding: 'UTF8' });
      const stemmed = await client.query(
        `select to_tsvector('italian', 'Ufficio di collegamento a Tokyo') @@ plainto_tsquery('italian', 'collegamenti') as found`,
      );
      expect(stemmed.rows[0]).toEqual({ found: true });
    } finally {
      await client.end();
    }
  });

  test('stop() ends the server and removes its data dir', async () => {
    const other = await startEmbeddedPostgres();
    const pid = other.pid;
    expect(isAlive(pid)).toBe(true);
    await other.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(other.dataDir)).toBe(false);
  });

  test('is SIGKILLed, and its data dir deleted, when the process that started it dies', async () => {
    // An owner process of its own, which this test SIGKILLs: no 'exit' handler runs, only the watchdog is left.
    const owner = spawn(
      process.execPath,
      [
        '-r',
        '@swc-node/register',
        '-e',
        `require('./libs/dev-stack/src/embedded-postgres').startEmbeddedPostgres().then((p) => {
        console.log(JSON.stringify({ pid: p.pid, dataDir: p.dataDir }));
        setInterval(() => undefined, 60_000);
      })`,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, SWC_NODE_PROJECT: 'tsconfig.json' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: owner.stdout }).once('line', resolve);
      owner.once('exit', (code) => reject(new Error(`owner exited with ${code}`)));
    });
    const started = JSON.parse(line) as { pid: number; dataDir: string };
    expect(isAlive(started.pid)).toBe(true);
    owner.kill('SIGKILL');
    await expectEventually(
      () => {
        expect(isAlive(started.pid)).toBe(false);
        expect(existsSync(started.dataDir)).toBe(false);
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
  });
});
