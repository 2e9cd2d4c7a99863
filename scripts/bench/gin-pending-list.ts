/**
 * `npm run bench:gin-pending-list`: what a GIN pending-list merge costs the write that triggers it. The projector
 * writes `event_revisions` a few rows per transaction; with `fastupdate` on (PostgreSQL's default) each GIN index
 * collects new entries in a pending list, and the insert that takes the list past `gin_pending_list_limit`
 * (4 MB) merges all of it into the index before it returns. Writes the bench's rows (raw-postgres.ts: the
 * bench's event body) in small transactions into fresh schemas made by our migrations, alternating rounds with
 * the migrations' indexes as they are and with `fastupdate` turned off on every GIN index of the table, and
 * reports each variant's transaction times, the slow ones, and the merges seen (the pending list shrinking).
 *
 * Environment: BENCH_ADMIN_DATABASE_URL (as the bench), GIN_EVENTS (per round, default 60,000), GIN_BATCH
 * (events per transaction, default 10), GIN_ROUNDS (default 2), GIN_FASTUPDATE_AS_MIGRATED=1 to leave the
 * migrations' settings in both variants (then the two variants are the same, a check of the noise).
 */
import { randomBytes } from 'node:crypto';
import { createPool, runMigrations } from '@timeline/database';
import { Client, type PoolClient } from 'pg';
import { insertWithUnnest, recordedEventTemplate, rowPair, TIMELINE_ID } from './raw-postgres';
import { round, summarize, table } from './stats';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env.GIN_EVENTS ?? 60_000);
const BATCH = Number(process.env.GIN_BATCH ?? 10);
const ROUNDS = Number(process.env.GIN_ROUNDS ?? 2);
const SLOW_MS = 100;

type Variant = 'fastupdate as migrated' | 'fastupdate off';

interface RoundResult {
  variant: Variant;
  round: number;
  seconds: number;
  transactionMs: ReturnType<typeof summarize>;
  slow: number;
  /** Transactions during which some GIN index's pending list shrank: the merges. */
  merges: { ms: number; indexes: string[] }[];
  pendingPagesAtEnd: Record<string, number>;
}

async function main(): Promise<void> {
  const database = `timeline_bench_gin_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${database}`);
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
  const results: RoundResult[] = [];
  try {
    await withClient(url, (client) => client.query('create extension if not exists pgstattuple'));
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternating, so that a change of the machine's load between rounds shows as a difference within a variant.
      for (const variant of ['fastupdate as migrated', 'fastupdate off'] as Variant[]) {
        const result = await measure(url, variant, round);
        console.error(
          `round ${round}, ${variant}: ${result.seconds} s, p99 ${result.transactionMs.p99} ms, max ${result.transactionMs.max} ms, merges ${result.merges.length}`,
        );
        results.push(result);
      }
    }
  } finally {
    await admin(`drop database if exists ${database} with (force)`);
  }
  console.log(
    `GIN pending list: ${EVENTS.toLocaleString('en')} RecordEvent rows per round (events + event_revisions), ${BATCH} per transaction, one connection`,
  );
  console.log(
    table(
      ['variant', 'round', 'seconds', 'tx p50 ms', 'tx p99 ms', 'tx max ms', `> ${SLOW_MS} ms`, 'merges (ms)', 'pending pages at end'],
      results.map((r) => [
        r.variant,
        r.round,
        r.seconds,
        r.transactionMs.p50,
        r.transactionMs.p99,
        r.transactionMs.max,
        r.slow,
        r.merges.map((merge) => `${Math.round(merge.ms)} (${merge.indexes.length} idx)`).join(', ') || '-',
        Object.values(r.pendingPagesAtEnd).join('/'),
      ]),
    ),
  );
}

async function measure(url: string, variant: Variant, roundNumber: number): Promise<RoundResult> {
  const schema = `gin_${variant === 'fastupdate off' ? 'off' : 'on'}_${roundNumber}`;
  const pool = createPool({ url, schema, poolSize: 1, applicationName: 'timeline-bench-gin' });
  try {
    await runMigrations(pool, schema);
    await pool.query(
      `insert into timelines (timeline_id, title, description, default_language, version, event_count, created_at, updated_at)
       values ($1, 'GIN pending list', '', 'it', 1, 0, now(), now())`,
      [TIMELINE_ID],
    );
    const indexes = await ginIndexes(pool, schema);
    if (variant === 'fastupdate off' && process.env.GIN_FASTUPDATE_AS_MIGRATED !== '1') {
      for (const index of indexes) await pool.query(`alter index "${schema}"."${index}" set (fastupdate = off)`);
    }
    const template = recordedEventTemplate();
    const client = await pool.connect();
    const times: number[] = [];
    const merges: RoundResult['merges'] = [];
    try {
      let pending = await pendingPages(client, schema, indexes);
      const startedAt = performance.now();
      for (let written = 0; written < EVENTS; written += BATCH) {
        const rows = Array.from({ length: BATCH }, () => rowPair(template));
        const began = performance.now();
        await client.query('begin');
        await insertWithUnnest(client, rows);
        await client.query('commit');
        const ms = performance.now() - began;
        times.push(ms);
        // Sampling the lists costs a little: every 50 transactions and after every slow one.
        if (ms > SLOW_MS || times.length % 50 === 0) {
          const now = await pendingPages(client, schema, indexes);
          const shrunk = indexes.filter((index) => now[index] < pending[index]);
          if (shrunk.length && ms > SLOW_MS) merges.push({ ms, indexes: shrunk });
          else if (shrunk.length) merges.push({ ms: NaN, indexes: shrunk });
          pending = now;
        }
      }
      const seconds = round((performance.now() - startedAt) / 1_000, 1);
      return {
        variant,
        round: roundNumber,
        seconds,
        transactionMs: summarize(times),
        slow: times.filter((ms) => ms > SLOW_MS).length,
        merges: merges.filter((merge) => !Number.isNaN(merge.ms)),
        pendingPagesAtEnd: await pendingPages(client, schema, indexes),
      };
    } finally {
      client.release();
    }
  } finally {
    await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
  }
}

async function ginIndexes(pool: { query: PoolClient['query'] }, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_am am on am.oid = c.relam join pg_namespace n on n.oid = c.relnamespace
      where am.amname = 'gin' and n.nspname = $1 order by 1`,
    [schema],
  );
  return rows.map((row) => row.name);
}

async function pendingPages(client: PoolClient, schema: string, indexes: string[]): Promise<Record<string, number>> {
  const pages: Record<string, number> = {};
  for (const index of indexes) {
    const { rows } = await client.query<{ pending_pages: number }>(`select pending_pages from public.pgstatginindex($1::regclass)`, [`"${schema}"."${index}"`]);
    pages[index] = rows[0].pending_pages;
  }
  return pages;
}

async function admin(sql: string): Promise<void> {
  await withClient(ADMIN_URL, (client) => client.query(sql));
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, application_name: 'timeline-bench-gin' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

void main().catch((error) => {
  console.error(`gin-pending-list failed: ${(error as Error).stack ?? error}`);
  process.exitCode = 1;
});
