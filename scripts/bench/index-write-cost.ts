/**
 * What the indexes of migration 20261207T1200 cost the projector's writes, without Kafka or HTTP: two schemas of
 * one database, one migrated up to just before it ("before") and one with every migration ("after"), each first
 * filled with the same generated read model (INDEX_COST_EVENTS events, default 200,000, with their decisions and
 * outbox rows), then given the same projector batches (RecordEvents, a tenth of them followed by a ReviseEvent of
 * an event recorded earlier) through ProjectionRepository.applyBatch, the schemas taking turns batch by batch, so
 * that the load of a shared machine falls on both alike. Also times the relay's `UPDATE outbox SET sent_at` for the
 * rows of the batches. Not part of `npm run bench`.
 * Run: npm run build && node dist/scripts/bench/index-write-cost.js
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { commandRecord, type LogRecord, type OutgoingRecord } from '@timeline/command-log';
import { createPool, listMigrations, OutboxRepository, ProjectionRepository, quoteIdentifier, runMigrations } from '@timeline/database';
import { commandSchema } from '@timeline/domain';
import { decideBatch, decidedOn, parseRecord, referencedIds } from '@timeline/projection';
import { generateDecisionsAndOutbox, generateReadModel } from './read-model';
import { EVENT_BODY, recordEventRecord } from './replay';
import { summarize } from './stats';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const EVENTS = Number(process.env.INDEX_COST_EVENTS ?? 200_000);
const ROUNDS = Number(process.env.INDEX_COST_ROUNDS ?? 20);
const BATCH_SIZES = (process.env.INDEX_COST_BATCH_SIZES ?? '1,100,1000').split(',').map(Number);
const FIRST_MIGRATION_AFTER = '20261207T1200';
const TOPIC = 'timeline.commands';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

/** The schema as it was before `FIRST_MIGRATION_AFTER`: the older migrations, in order. */
async function migrateBefore(pool: Pool, schema: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`create schema ${quoteIdentifier(schema)}`);
    await client.query(`set search_path to ${quoteIdentifier(schema)}`);
    for (const migration of listMigrations().filter((m) => m.name < FIRST_MIGRATION_AFTER)) await client.query(migration.sql);
  } finally {
    client.release();
  }
}

interface Target {
  name: 'before' | 'after';
  pool: Pool;
  projection: ProjectionRepository;
  outbox: OutboxRepository;
  recorded: { timelineId: string; eventId: string }[];
  applyMs: Map<number, number[]>;
  markSentMsPerRow: number[];
}

function reviseRecord(timelineId: string, eventId: string): OutgoingRecord {
  const command = commandSchema.parse({
    type: 'ReviseEvent',
    commandId: randomUUID(),
    timelineId,
    eventId,
    changes: { factuality: 'confirmed' },
    reason: 'Confirmed',
  });
  return commandRecord(command, {});
}

/** One projector batch of `size` commands, decided on the stored state and applied in one call; returns ms of the call. */
async function applyOne(target: Target, size: number, timelines: string[]): Promise<number> {
  const outgoing: OutgoingRecord[] = [];
  while (outgoing.length < size) {
    const revisable = target.recorded.length > 0 && outgoing.length % 10 === 9;
    if (revisable) {
      const { timelineId, eventId } = target.recorded[Math.floor(Math.random() * target.recorded.length)];
      outgoing.push(reviseRecord(timelineId, eventId));
    } else {
      outgoing.push(recordEventRecord(timelines[Math.floor(Math.random() * timelines.length)], { ...EVENT_BODY, title: `Dichiarazione ${randomUUID()}` }));
    }
  }
  const { storedOffset } = await target.projection.loadPartitionState(TOPIC, 0, { commandIds: [], timelineIds: [], eventIds: [], redaction: null });
  const records = outgoing
    .map((record, index): LogRecord => ({
      partition: 0,
      offset: storedOffset + index,
      timestamp: Date.now(),
      key: record.key,
      value: Buffer.from(record.value),
      headers: record.headers,
    }))
    .map(parseRecord);
  const ids = referencedIds(records);
  const { alreadyDecided, storedOffset: stored, ...state } = await target.projection.loadPartitionState(TOPIC, 0, ids);
  const decided = decideBatch(TOPIC, records, state, alreadyDecided);
  const batch = { topic: TOPIC, partition: 0, firstOffset: stored, nextOffset: stored + size, ...decided, decidedOn: decidedOn(ids, state, alreadyDecided) };
  const started = performance.now();
  const outcome = await target.projection.applyBatch(batch);
  const elapsed = performance.now() - started;
  if (outcome.kind !== 'applied') throw new Error(`${target.name}: batch not applied: ${JSON.stringify(outcome)}`);
  for (const change of decided.changes) {
    if (change.change.type === 'EventRecorded') target.recorded.push({ timelineId: change.change.timelineId, eventId: change.change.eventId });
  }
  return elapsed;
}

/** The relay's read and mark of what is unsent, in its batches of 500; ms per row marked. */
async function markSent(target: Target): Promise<void> {
  for (;;) {
    const rows = await target.outbox.unsent(500);
    if (rows.length === 0) return;
    const started = performance.now();
    await target.outbox.markSent(rows.map((row) => row.position));
    target.markSentMsPerRow.push((performance.now() - started) / rows.length);
  }
}

async function main(): Promise<void> {
  const database = `timeline_index_cost_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${database}`);
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
  const targets: Target[] = [];
  try {
    for (const name of ['before', 'after'] as const) {
      const pool = createPool({ url, schema: name, poolSize: 2, statementTimeoutMs: 600_000, applicationName: `index-cost-${name}` });
      if (name === 'before') await migrateBefore(pool, name);
      else await runMigrations(pool, name);
      const started = Date.now();
      await generateReadModel(pool, EVENTS, 300);
      await generateDecisionsAndOutbox(pool, { topic: TOPIC, partitions: 3, unsent: 0 });
      console.log(`${name}: ${EVENTS.toLocaleString('en')} events generated in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      targets.push({
        name,
        pool,
        projection: new ProjectionRepository(pool),
        outbox: new OutboxRepository(pool),
        recorded: [],
        applyMs: new Map(),
        markSentMsPerRow: [],
      });
    }
    const timelines = Array.from({ length: 300 }, (_, i) => `bench-q-${i + 1}`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const size of BATCH_SIZES) {
        // Alternate which schema goes first.
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const target of order) {
          const times = target.applyMs.get(size) ?? [];
          times.push(await applyOne(target, size, timelines));
          target.applyMs.set(size, times);
        }
      }
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) await markSent(target);
    }
    console.log(`\napplyBatch, ${ROUNDS} rounds, schemas alternating (ms per batch; a tenth of each batch of 100 or more revises an earlier event)`);
    for (const size of BATCH_SIZES) {
      const [before, after] = targets.map((target) => summarize(target.applyMs.get(size) ?? []));
      console.log(
        `  batch of ${String(size).padStart(4)}: before p50 ${before.p50} ms (mean ${before.mean}), after p50 ${after.p50} ms (mean ${after.mean});` +
          ` after/before p50 ${(after.p50 / before.p50).toFixed(2)}, commands/s before ${Math.round((size * 1000) / before.p50)} after ${Math.round((size * 1000) / after.p50)}`,
      );
    }
    for (const target of targets) {
      const perRow = summarize(target.markSentMsPerRow);
      console.log(
        `  ${target.name}: relay's UPDATE outbox SET sent_at, per row marked: p50 ${perRow.p50.toFixed(3)} ms, mean ${perRow.mean.toFixed(3)} ms (${target.markSentMsPerRow.length} calls)`,
      );
    }
    for (const target of targets) {
      const { rows } = await target.pool.query<{ relname: string; n_tup_upd: number; n_tup_hot_upd: number; size: string }>(
        `select relname, n_tup_upd, n_tup_hot_upd, pg_size_pretty(pg_total_relation_size(relid)) as size
         from pg_stat_user_tables where schemaname = current_schema() and relname in ('timelines', 'events', 'event_revisions', 'outbox', 'decisions')
         order by relname`,
      );
      console.log(`  ${target.name}: ${rows.map((row) => `${row.relname} ${row.size}, ${row.n_tup_hot_upd}/${row.n_tup_upd} updates HOT`).join('; ')}`);
    }
  } finally {
    for (const target of targets) await target.pool.end();
    await admin(`drop database if exists ${database} with (force)`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
