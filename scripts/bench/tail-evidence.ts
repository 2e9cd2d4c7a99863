/**
 * The bench's tail mode (BENCH_TAIL=1): what happened on the machine while a load ran, as timed events that the
 * latency picture draws as markers and that `stallsWithEvents` holds against the slow answers.
 *
 * - PostgreSQL, sampled every SAMPLE_MS by a connection of its own: connections of the bench database opened and
 *   closed (pg_stat_activity.backend_start; pg-pool closes a connection idle for idleTimeoutMillis), autovacuum
 *   workers in the database, what active backends wait on, checkpoints (pg_stat_bgwriter), and the pending list of
 *   every GIN index of the schema (pgstattuple's pgstatginindex: a drop is a merge of the list into the index).
 * - The server's own log (BENCH_POSTGRES_LOG, when the bench runs beside the server): checkpoint, autovacuum and
 *   slow-statement lines of the window (the bench sets log_min_duration_statement on its database and
 *   log_autovacuum_min_duration = 0 on the schema's tables).
 * - GC pauses of the api and the projector (scripts/bench/gc-log.ts) and of the Kafka broker (-Xlog:gc).
 * - The projector's per-batch debug line ("batch applied: ..."): records and apply_batch time of every batch.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { Client } from 'pg';

const SAMPLE_MS = 100;

/** Something that happened at a moment (ms since the epoch), with how long it took where known. */
export interface TailEvent {
  at: number;
  source: string;
  what: string;
  ms?: number;
}

export interface PostgresWatchResult {
  events: TailEvent[];
  samples: number;
  /** Of the samples, how often an active client backend of the database waited on each wait event. */
  waits: Record<string, number>;
  /** The most pending pages each GIN index had during the window. */
  ginPendingPagesMax: Record<string, number>;
}

/** Samples the bench database while a load runs; `stop` returns what it saw. */
export class PostgresWatch {
  private readonly client: Client;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly events: TailEvent[] = [];
  private readonly waits: Record<string, number> = {};
  private readonly ginMax: Record<string, number> = {};
  private samples = 0;
  private logOffset = 0;

  constructor(
    databaseUrl: string,
    private readonly database: string,
    private readonly schema: string,
    private readonly serverLog: string | undefined,
  ) {
    this.client = new Client({ connectionString: databaseUrl, application_name: 'timeline-bench-tail-watch' });
  }

  /** Before the services connect: the extension for pgstatginindex, and slow statements logged from `statementLogMs`. */
  static async prepareDatabase(databaseUrl: string, statementLogMs: number): Promise<void> {
    await withClient(databaseUrl, async (client) => {
      await client.query('create extension if not exists pgstattuple');
      await client.query(`alter database ${quote(client.database ?? '')} set log_min_duration_statement = ${Math.round(statementLogMs)}`);
    });
  }

  /** Once the migrations made the tables: every autovacuum of them logged. */
  static async prepareSchema(databaseUrl: string, schema: string): Promise<void> {
    await withClient(databaseUrl, async (client) => {
      const { rows } = await client.query<{ name: string }>(`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname = $1`, [
        schema,
      ]);
      for (const { name } of rows) await client.query(`alter table ${name} set (log_autovacuum_min_duration = 0)`);
    });
  }

  async start(): Promise<void> {
    await this.client.connect();
    if (this.serverLog && existsSync(this.serverLog)) this.logOffset = statSync(this.serverLog).size;
    this.running = true;
    this.loop = this.sampleUntilStopped();
  }

  async stop(): Promise<PostgresWatchResult> {
    this.running = false;
    await this.loop;
    await this.client.end();
    if (this.serverLog && existsSync(this.serverLog))
      this.events.push(...serverLogEvents(readFrom(this.serverLog, this.logOffset), this.database, this.ourPids));
    return { events: this.events.sort((a, b) => a.at - b.at), samples: this.samples, waits: this.waits, ginPendingPagesMax: this.ginMax };
  }

  private readonly ourPids = new Set<number>();

  private async sampleUntilStopped(): Promise<void> {
    const connections = new Map<number, string>();
    let checkpoints: number | null = null;
    const pending = new Map<string, number>();
    const autovacuums = new Set<string>();
    let first = true;
    while (this.running) {
      const started = Date.now();
      try {
        const activity = await this.client.query<{
          pid: number;
          backend_start: Date;
          application_name: string;
          backend_type: string;
          state: string | null;
          wait: string | null;
          query: string;
        }>(
          `select pid, backend_start, application_name, backend_type, state,
                  wait_event_type || ':' || wait_event as wait, left(query, 80) as query
             from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [this.database],
        );
        const seen = new Set<number>();
        for (const row of activity.rows) {
          seen.add(row.pid);
          if (row.backend_type === 'client backend') this.ourPids.add(row.pid);
          if (!connections.has(row.pid)) {
            connections.set(row.pid, row.application_name || row.backend_type);
            if (!first)
              this.events.push({
                at: row.backend_start.getTime(),
                source: 'postgres',
                what: `connection opened (${row.application_name || row.backend_type}, pid ${row.pid})`,
              });
          }
          if (row.backend_type === 'autovacuum worker' && !autovacuums.has(`${row.pid} ${row.query}`)) {
            autovacuums.add(`${row.pid} ${row.query}`);
            this.events.push({ at: started, source: 'postgres', what: `autovacuum running: ${row.query}` });
          }
          if (row.backend_type === 'client backend' && row.state === 'active' && row.wait && row.wait !== 'Client:ClientRead') {
            this.waits[row.wait] = (this.waits[row.wait] ?? 0) + 1;
            this.events.push({ at: started, source: 'postgres wait', what: `${row.application_name} ${row.wait}` });
          }
        }
        for (const [pid, name] of connections) {
          if (seen.has(pid)) continue;
          connections.delete(pid);
          this.events.push({ at: started, source: 'postgres', what: `connection closed (${name}, pid ${pid})` });
        }
        const bgwriter = await this.client.query<{ checkpoints: string }>('select checkpoints_timed + checkpoints_req as checkpoints from pg_stat_bgwriter');
        const count = Number(bgwriter.rows[0].checkpoints);
        if (checkpoints !== null && count > checkpoints) this.events.push({ at: started, source: 'postgres', what: 'checkpoint started' });
        checkpoints = count;
        const gin = await this.client.query<{ name: string; pending_pages: number }>(
          `select c.relname as name, (pgstatginindex(c.oid)).pending_pages
             from pg_class c join pg_am am on am.oid = c.relam join pg_namespace n on n.oid = c.relnamespace
            where am.amname = 'gin' and n.nspname = $1`,
          [this.schema],
        );
        for (const { name, pending_pages: pages } of gin.rows) {
          const before = pending.get(name);
          if (before !== undefined && pages < before)
            this.events.push({ at: started, source: 'gin', what: `${name} pending list merged (${before} → ${pages} pages)` });
          pending.set(name, pages);
          this.ginMax[name] = Math.max(this.ginMax[name] ?? 0, pages);
        }
        this.samples++;
        first = false;
      } catch (error) {
        this.events.push({ at: started, source: 'watch', what: `sample failed: ${(error as Error).message}` });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, SAMPLE_MS - (Date.now() - started))));
    }
  }
}

/** The lines the server logged from `offset` on. */
function readFrom(file: string, offset: number): string {
  const text = readFileSync(file);
  return text.subarray(offset).toString('utf8');
}

/**
 * Checkpoints, autovacuum of the database's tables and slow statements of its backends, from the server log
 * (Debian's log_line_prefix '%m [%p] %q%u@%d ': "2026-12-07 05:53:15.750 UTC [2230] LOG:  checkpoint starting: time",
 * "2026-12-07 06:04:23.700 UTC [23401] postgres@timeline_bench_x LOG:  duration: 63.720 ms  execute apply_batch: ...").
 */
export function serverLogEvents(log: string, database: string, ourPids: ReadonlySet<number>): TailEvent[] {
  const events: TailEvent[] = [];
  const line = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[(\d+)\] (?:\S*@\S* )?\w+:\s+(.*)$/;
  for (const text of log.split('\n')) {
    const match = line.exec(text);
    if (!match) continue;
    const [, time, pid, message] = match;
    const at = Date.parse(`${time.replace(' ', 'T')}Z`);
    if (/^checkpoint (starting|complete)/.test(message)) {
      const total = /total=([\d.]+) s/.exec(message);
      events.push({ at, source: 'postgres log', what: message.slice(0, 120), ...(total ? { ms: Number(total[1]) * 1_000 } : {}) });
    } else if (/^automatic (vacuum|analyze) of table "/.test(message) && message.includes(`"${database}.`)) {
      const elapsed = /elapsed: ([\d.]+) s/.exec(message);
      events.push({ at, source: 'postgres log', what: message.slice(0, 120), ...(elapsed ? { ms: Number(elapsed[1]) * 1_000 } : {}) });
    } else if (ourPids.has(Number(pid))) {
      const duration = /^duration: ([\d.]+) ms\s+(.*)$/.exec(message);
      if (duration) events.push({ at, source: 'postgres log', what: `slow statement (pid ${pid}): ${duration[2].slice(0, 100)}`, ms: Number(duration[1]) });
    }
  }
  return events;
}

/** GC pauses of a Node process from scripts/bench/gc-log.ts's file, in the window. */
export function nodeGcEvents(file: string, source: string, from: number, to: number): TailEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((text) => JSON.parse(text) as { at: number; ms: number; kind: string })
    .filter(({ at }) => at >= from && at <= to)
    .map(({ at, ms, kind }) => ({ at, source, what: `${kind} GC`, ms }));
}

/** Pauses from a JVM unified GC log with the `time` decoration: "[2026-12-07T06:10:00.123+0000][gc] GC(3) Pause Young ... 3.456ms". */
export function jvmGcEvents(file: string, from: number, to: number): TailEvent[] {
  if (!existsSync(file)) return [];
  const events: TailEvent[] = [];
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})([+-]\d{4})\].*?(Pause [^(]*(?:\([^)]*\))*).*?([\d.]+)ms\s*$/.exec(text);
    if (!match) continue;
    const [, time, zone, what, ms] = match;
    const at = Date.parse(`${time}${zone.slice(0, 3)}:${zone.slice(3)}`);
    if (at >= from && at <= to) events.push({ at, source: 'kafka gc', what: what.trim(), ms: Number(ms) });
  }
  return events;
}

export interface BatchLine {
  at: number;
  partition: number;
  records: number;
  applyBatchMs: number;
  chunkMs: number;
}

/** The projector's "batch applied" debug lines (pino JSON, ISO `time`) in the window. */
export function projectorBatches(file: string, from: number, to: number): BatchLine[] {
  if (!existsSync(file)) return [];
  const batches: BatchLine[] = [];
  const pattern = /batch applied: partition (\d+), offsets \d+-\d+, (\d+) records, \d+ decisions, chunk ([\d.]+) ms, apply_batch ([\d.]+) ms/;
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    if (!text.includes('batch applied')) continue;
    try {
      const entry = JSON.parse(text) as { time: string; msg: string };
      const match = pattern.exec(entry.msg);
      const at = Date.parse(entry.time);
      if (match && at >= from && at <= to) {
        batches.push({ at, partition: Number(match[1]), records: Number(match[2]), chunkMs: Number(match[3]), applyBatchMs: Number(match[4]) });
      }
    } catch {
      /* not a JSON line */
    }
  }
  return batches;
}

export interface CommitGaps {
  /** Pauses longer than the threshold between two commits of the projector, whichever partitions. */
  count: number;
  longestMs: number;
  /** Of them, those whose next batch's apply_batch took more than half the pause: the pause was in PostgreSQL. */
  mostlyInApplyBatch: number;
}

/**
 * Pauses in the projector's commits (from its batch lines, in commit order): a pause the next apply_batch does not
 * explain was spent elsewhere (fetching from Kafka, waiting for a core).
 */
export function commitGaps(batches: BatchLine[], thresholdMs: number): CommitGaps {
  const sorted = [...batches].sort((a, b) => a.at - b.at);
  let count = 0;
  let longestMs = 0;
  let mostlyInApplyBatch = 0;
  for (let index = 1; index < sorted.length; index++) {
    const gap = sorted[index].at - sorted[index - 1].at;
    if (gap <= thresholdMs) continue;
    count++;
    longestMs = Math.max(longestMs, gap);
    if (sorted[index].applyBatchMs > gap / 2) mostlyInApplyBatch++;
  }
  return { count, longestMs, mostlyInApplyBatch };
}

export interface Stall {
  /** The window of due times of the slow answers, ms since the epoch. */
  from: number;
  to: number;
  answers: number;
  worstMs: number;
  /** The most the generator itself sent one of them late (sent − due). */
  generatorLagMs: number;
  /** Events from 1 s before the first slow request was due to its answer. */
  events: TailEvent[];
}

/**
 * Slow answers (over `thresholdMs`) grouped into stalls (due within `gapMs` of each other), each with the
 * events that could have caused it.
 */
export function stallsWithEvents(
  answers: { dueAt: number; sentAt?: number; answeredAt: number }[],
  events: TailEvent[],
  thresholdMs: number,
  gapMs = 500,
): Stall[] {
  const slow = answers.filter((answer) => answer.answeredAt - answer.dueAt > thresholdMs).sort((a, b) => a.dueAt - b.dueAt);
  const stalls: (Stall & { lastAnswer: number })[] = [];
  for (const answer of slow) {
    const latency = answer.answeredAt - answer.dueAt;
    const lag = (answer.sentAt ?? answer.dueAt) - answer.dueAt;
    const current = stalls.at(-1);
    if (current && answer.dueAt - current.to <= gapMs) {
      current.to = answer.dueAt;
      current.answers++;
      current.worstMs = Math.max(current.worstMs, latency);
      current.generatorLagMs = Math.max(current.generatorLagMs, lag);
      current.lastAnswer = Math.max(current.lastAnswer, answer.answeredAt);
    } else {
      stalls.push({ from: answer.dueAt, to: answer.dueAt, answers: 1, worstMs: latency, generatorLagMs: lag, events: [], lastAnswer: answer.answeredAt });
    }
  }
  return stalls.map(({ lastAnswer, ...stall }) => ({
    ...stall,
    worstMs: Math.round(stall.worstMs),
    generatorLagMs: Math.round(stall.generatorLagMs),
    events: events.filter((event) => event.at >= stall.from - 1_000 && event.at <= lastAnswer),
  }));
}

async function withClient(databaseUrl: string, work: (client: Client) => Promise<void>): Promise<void> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'timeline-bench-tail-watch' });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}
