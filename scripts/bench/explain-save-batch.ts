/**
 * EXPLAIN ANALYZE (auto_explain, nested statements) of the projector's apply_batch on realistic batches (EXPLAIN_BATCH_SIZE records, default 1,000) of RecordEvent commands, for
 * working on the replay path (not part of `npm run bench`). Creates and drops a database of its own.
 * Run: npm run bench:explain-save-batch (EXPLAIN_BULK=1: as a rebuild loads, GIN indexes and notifications off)
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { BulkLoadRepository, createPool, ProjectionRepository, runMigrations } from '@timeline/database';
import type { LogRecord } from '@timeline/command-log';
import { decideBatch, decidedOn, parseRecord, referencedIds } from '@timeline/projection';
import { createTimelineRecord, EVENT_BODY, recordEventRecord } from './replay';

const ADMIN_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BATCHES = Number(process.env.EXPLAIN_BATCHES ?? 10);
const BATCH_SIZE = Number(process.env.EXPLAIN_BATCH_SIZE ?? 1_000);
/** EXPLAIN_BULK=1: as a rebuild's replay loads, GIN indexes and actor keys put off (BulkLoadRepository). */
const BULK = process.env.EXPLAIN_BULK === '1';

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

async function main(): Promise<void> {
  const database = `timeline_explain_${randomBytes(4).toString('hex')}`;
  await admin(`create database ${database}`);
  const url = Object.assign(new URL(ADMIN_URL), { pathname: `/${database}` }).toString();
  const pool = createPool({ url, schema: 'explain', poolSize: 2, statementTimeoutMs: 600_000, applicationName: 'explain' });
  try {
    await runMigrations(pool, 'explain');
    if (BULK) await new BulkLoadRepository(pool).begin('explain');
    const repository = BULK ? ProjectionRepository.forReplay(pool) : new ProjectionRepository(pool);
    const timelineIds = Array.from({ length: 100 }, (_, i) => `replay-${String(i + 1).padStart(3, '0')}`);
    let offset = 0;
    const toLog = (record: ReturnType<typeof recordEventRecord>): LogRecord => ({
      partition: 0,
      offset: offset++,
      timestamp: Date.now(),
      key: record.key,
      value: Buffer.from(record.value),
      headers: record.headers,
    });
    for (let batch = 0; batch < BATCHES; batch++) {
      const outgoing = batch === 0 ? timelineIds.map((id) => createTimelineRecord(id, { title: `Replay ${id}`, defaultLanguage: 'it' })) : [];
      for (let n = outgoing.length; n < BATCH_SIZE; n++)
        outgoing.push(recordEventRecord(timelineIds[n % 100], { ...EVENT_BODY, title: `Dichiarazione ${batch}-${n}` }));
      const first = offset;
      const records = outgoing.map(toLog).map(parseRecord);
      const last = batch === BATCHES - 1;
      const ids = referencedIds(records);
      const { alreadyDecided, storedOffset, ...state } = await repository.loadPartitionState('explain', 0, ids);
      const decided = decideBatch('explain', records, state, alreadyDecided);
      const client = await pool.connect();
      try {
        if (last) {
          // The plans of the statements inside apply_batch, with their times, sent to this client as notices.
          await client.query(`load 'auto_explain'`);
          await client.query('set auto_explain.log_min_duration = 0');
          await client.query('set auto_explain.log_analyze = on');
          await client.query('set auto_explain.log_buffers = on');
          await client.query('set auto_explain.log_nested_statements = on');
          await client.query('set auto_explain.log_triggers = on');
          await client.query('set client_min_messages = log');
          client.on('notice', (notice) => console.log(notice.message));
        }
        const backend = await client.query<{ pid: number }>('select pg_backend_pid() as pid').then(({ rows }) => rows[0].pid);
        const cpuBefore = backendCpuMs(backend);
        const started = performance.now();
        const batchToApply = { topic: 'explain', partition: 0, firstOffset: storedOffset, nextOffset: offset, ...decided };
        const outcome = await repository.applyBatch({ ...batchToApply, decidedOn: decidedOn(ids, state, alreadyDecided) }, client);
        const cpu = cpuBefore === null ? 'n/a' : `${(backendCpuMs(backend)! - cpuBefore).toFixed(0)} ms`;
        console.log(`batch ${batch} (from offset ${first}): applyBatch ${(performance.now() - started).toFixed(0)} ms, server CPU ${cpu}, ${outcome.kind}`);
      } finally {
        client.release(true);
      }
    }
  } finally {
    await pool.end();
    await admin(`drop database if exists ${database} with (force)`);
  }
}

/**
 * CPU time (user + system) of a PostgreSQL backend on this machine, from /proc: steadier than wall time on a
 * machine shared with other work. Null where the server is not local (or not Linux).
 */
function backendCpuMs(pid: number): number | null {
  try {
    // The fields after the command name (which may hold spaces) start at the state; utime and stime are the 14th and 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
const CLOCK_TICKS_PER_SECOND = 100;

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
