/**
 * How long outbox subscribers (the relay and the stream's reader) are held back by a transaction left
 * open in ANOTHER database of the same PostgreSQL server (another service, a migration, a psql session).
 *
 *   npm run bench:outbox-horizon [-- <hold seconds, default 60>]
 *
 * Creates two throw-away databases: one with our schema, where three writers (one per partition, as
 * the projector's) commit small batches through the projector's own statements, while a relay-like
 * reader and a stream-like reader poll the outbox every 20 ms; and an "other service's" database,
 * where a session takes a transaction id and sits idle in transaction for the hold. Prints how late
 * each reader saw the rows committed before, during and after the hold, and checks that each reader
 * saw every row once, each partition's rows in commit order. Drops both databases at the end.
 * Environment: BENCH_ADMIN_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createPool, OutboxRepository, ProjectionRepository, runMigrations, type BatchToApply } from '@timeline/database';
import type { TimelineChange } from '@timeline/domain';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const HOLD_MS = Number(process.argv[2] ?? 60) * 1_000;
const SETTLE_MS = 5_000;
const WRITE_EVERY_MS = 50;
const POLL_EVERY_MS = 20;
const PARTITIONS = 3;
const TOPIC = 'horizon';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Written {
  partition: number;
  committedAt: number;
  phase: 'before' | 'during' | 'after';
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

function change(timelineId: string, commandId: string): TimelineChange {
  const knownAt = new Date().toISOString();
  return {
    type: 'TimelineCreated',
    commandId,
    timelineId,
    version: 1,
    knownAt,
    timeline: { title: timelineId, description: '', defaultLanguage: 'en' },
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const ours = `timeline_horizon_${suffix}`;
  const theirs = `other_service_${suffix}`;
  await admin(async (client) => {
    await client.query(`create database ${ours}`);
    await client.query(`create database ${theirs}`);
  });
  const pool = createPool({ url: databaseUrl(ours), schema: 'timeline', poolSize: 8, applicationName: 'outbox-horizon' });
  const other = new Client({ connectionString: databaseUrl(theirs), application_name: 'other-service' });
  try {
    await runMigrations(pool, 'timeline');
    const projection = new ProjectionRepository(pool);
    const outbox = new OutboxRepository(pool);
    const written = new Map<string, Written>();
    const seen = { relay: new Map<string, number>(), stream: new Map<string, number>() };
    const order = { relay: [] as string[], stream: [] as string[] };
    const duplicates = { relay: 0, stream: 0 };
    let phase: Written['phase'] = 'before';
    let writing = true;
    let reading = true;

    const writer = async (partition: number) => {
      for (let offset = 0; writing; offset += 1) {
        const commandId = randomUUID();
        const batch: BatchToApply = {
          topic: TOPIC,
          decidedOn: { undecided: [], timelines: [], events: [] },
          partition,
          firstOffset: offset,
          nextOffset: offset + 1,
          decisions: [],
          timelines: [],
          events: [],
          changes: [{ change: change(`p${partition}-${offset}`, commandId), index: 0, traceparent: null }],
          redelivered: [],
        };
        const batchPhase = phase;
        if ((await projection.applyBatch(batch)).kind !== 'applied') throw new Error(`offset of partition ${partition} moved`);
        written.set(commandId, { partition, committedAt: Date.now(), phase: batchPhase });
        await sleep(WRITE_EVERY_MS);
      }
    };
    const note = (reader: 'relay' | 'stream', commandIds: string[]) => {
      const now = Date.now();
      for (const commandId of commandIds) {
        if (seen[reader].has(commandId)) duplicates[reader] += 1;
        else seen[reader].set(commandId, now);
        order[reader].push(commandId);
      }
    };
    const relayReader = async () => {
      while (reading) {
        const rows = await outbox.unsent(500);
        if (rows.length > 0) {
          note(
            'relay',
            rows.map((row) => row.commandId),
          );
          await outbox.markSent(rows.map((row) => row.position));
        }
        await sleep(POLL_EVERY_MS);
      }
    };
    const streamReader = async () => {
      let cursor = 0;
      while (reading) {
        const rows = await outbox.readAfter(cursor, 500);
        if (rows.length > 0) {
          note(
            'stream',
            rows.map((row) => row.commandId),
          );
          cursor = rows[rows.length - 1].position;
        }
        await sleep(POLL_EVERY_MS);
      }
    };

    const writers = Array.from({ length: PARTITIONS }, (_, partition) => writer(partition));
    const readers = [relayReader(), streamReader()];
    await sleep(SETTLE_MS);

    await other.connect();
    await other.query('begin');
    const { rows } = await other.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
    phase = 'during';
    const holdStart = Date.now();
    console.log(`an idle transaction (xid ${rows[0].xid}) in database ${theirs} for ${HOLD_MS / 1_000} s ...`);
    await sleep(HOLD_MS);
    await other.query('rollback');
    const holdEnd = Date.now();
    phase = 'after';
    await sleep(SETTLE_MS);
    writing = false;
    await Promise.all(writers);
    // Every reader must catch up with what was written.
    const deadline = Date.now() + 30_000;
    while ((seen.relay.size < written.size || seen.stream.size < written.size) && Date.now() < deadline) await sleep(POLL_EVERY_MS);
    reading = false;
    await Promise.all(readers);

    console.log(`${written.size} rows written by ${PARTITIONS} writers; hold ${((holdEnd - holdStart) / 1_000).toFixed(1)} s`);
    console.log('reader  phase   rows  p50 ms  p99 ms  max ms  (commit to seen)');
    for (const reader of ['relay', 'stream'] as const) {
      for (const rowPhase of ['before', 'during', 'after'] as const) {
        const delays = [...written]
          .filter(([commandId, row]) => row.phase === rowPhase && seen[reader].has(commandId))
          .map(([commandId, row]) => Math.max(0, seen[reader].get(commandId)! - row.committedAt));
        const fmt = (value: number) => String(Math.round(value)).padStart(6);
        console.log(
          `${reader.padEnd(7)} ${rowPhase.padEnd(7)} ${String(delays.length).padStart(5)}  ${fmt(percentile(delays, 50))}  ${fmt(percentile(delays, 99))}  ${fmt(Math.max(0, ...delays))}`,
        );
      }
      const missing = [...written.keys()].filter((commandId) => !seen[reader].has(commandId)).length;
      const outOfOrder = [...Array(PARTITIONS).keys()].filter((partition) => {
        const mine = order[reader].filter((commandId) => written.get(commandId)?.partition === partition);
        const committed = [...written].filter(([, row]) => row.partition === partition).map(([commandId]) => commandId);
        return mine.join() !== committed.filter((commandId) => mine.includes(commandId)).join();
      }).length;
      console.log(`${reader.padEnd(7)} missing ${missing}, duplicates ${duplicates[reader]}, partitions out of order ${outOfOrder}`);
    }
    const during = [...written].filter(([, row]) => row.phase === 'during');
    const heldBack = Math.max(
      0,
      ...(['relay', 'stream'] as const).flatMap((reader) =>
        during.filter(([commandId]) => seen[reader].has(commandId)).map(([commandId, row]) => seen[reader].get(commandId)! - row.committedAt),
      ),
    );
    console.log(`subscribers held back by the other database's idle transaction: up to ${(heldBack / 1_000).toFixed(1)} s`);
  } finally {
    await other.end().catch(() => undefined);
    await pool.end();
    await admin(async (client) => {
      await client.query(`drop database if exists ${ours} with (force)`);
      await client.query(`drop database if exists ${theirs} with (force)`);
    });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
