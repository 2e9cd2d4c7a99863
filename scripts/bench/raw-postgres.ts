/**
 * Baseline: what PostgreSQL alone does with rows like ours. Each method gets a fresh schema built by our own
 * migrations (so `events` and `event_revisions` have our columns, indexes, and generated search column),
 * then writes one `events` row and one `event_revisions` row per RecordEvent, shaped as the projector writes
 * them for the bench's event body, in transactions of 1,000 events: once with `insert ... select from
 * unnest(...)`, once with COPY. One connection, no decisions, outbox or notifications: the floor of the write.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { actorKeys, createPool, placeKeys, runMigrations } from '@timeline/database';
import {
  decide,
  initialState,
  evolve,
  eventDataSchema,
  timelineDataSchema,
  type EventRecorded,
  type TimelineCommand,
  type PartitionState,
} from '@timeline/domain';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { EVENT_BODY } from './replay';
import { round } from './stats';

export interface RawPostgresSpec {
  databaseUrl: string;
  /** Schemas are named <prefix>_unnest and <prefix>_copy. */
  schemaPrefix: string;
  events: number;
  batchSize: number;
}

export interface RawWriteResult {
  method: 'unnest' | 'copy';
  /** RecordEvents written: each one `events` row and one `event_revisions` row. */
  events: number;
  seconds: number;
  /** Events (row pairs) per second, comparable with commands/s. */
  rowsPerSecond: number;
}

export const TIMELINE_ID = 'raw-pg-1';
const EVENT_COLUMNS = [
  'event_id',
  'timeline_id',
  'revision',
  'kind',
  'language',
  'factuality',
  'valid_time',
  'valid_precision',
  'valid_lower',
  'valid_upper',
  'retracted',
  'recorded_at',
  'revised_at',
  'state',
] as const;
const EVENT_TYPES = ['uuid', 'text', 'integer', 'text', 'text', 'text', 'text', 'text', 'date', 'date', 'boolean', 'timestamptz', 'timestamptz', 'jsonb'];
const REVISION_COLUMNS = [
  'event_id',
  'revision',
  'timeline_id',
  'change_type',
  'command_id',
  'reason',
  'changed',
  'previous',
  'state',
  'known_from',
  'known_to',
  'kind',
  'factuality',
  'language',
  'valid_lower',
  'valid_upper',
  'retracted',
  'actor_keys',
  'place_keys',
  'topics',
] as const;
const REVISION_TYPES = [
  'uuid',
  'integer',
  'text',
  'text',
  'uuid',
  'text',
  'jsonb',
  'jsonb',
  'jsonb',
  'timestamptz',
  'timestamptz',
  'text',
  'text',
  'text',
  'date',
  'date',
  'boolean',
  'text[]',
  'text[]',
  'text[]',
];

type Cell = string | number | boolean | null | string[];
export interface RowPair {
  event: Cell[];
  revision: Cell[];
}

export async function measureRawPostgres(spec: RawPostgresSpec): Promise<RawWriteResult[]> {
  const template = recordedEventTemplate();
  const results: RawWriteResult[] = [];
  for (const method of ['unnest', 'copy'] as const) {
    const schema = `${spec.schemaPrefix}_${method}`;
    const pool = createPool({ url: spec.databaseUrl, schema, poolSize: 1, applicationName: `timeline-bench-raw-${method}` });
    try {
      await runMigrations(pool, schema);
      await pool.query(
        `insert into timelines (timeline_id, title, description, default_language, version, event_count, created_at, updated_at)
         values ($1, 'Raw PostgreSQL', '', 'it', 1, 0, now(), now())`,
        [TIMELINE_ID],
      );
      const write = method === 'unnest' ? insertWithUnnest : insertWithCopy;
      const client = await pool.connect();
      try {
        const batches = Math.ceil(spec.events / spec.batchSize);
        const pending = Array.from({ length: batches }, () => Array.from({ length: spec.batchSize }, () => rowPair(template)));
        const startedAt = performance.now();
        for (const rows of pending) {
          await client.query('begin');
          await write(client, rows);
          await client.query('commit');
        }
        const seconds = (performance.now() - startedAt) / 1000;
        const events = batches * spec.batchSize;
        results.push({ method, events, seconds: round(seconds, 2), rowsPerSecond: round(events / seconds, 0) });
      } finally {
        client.release();
      }
    } finally {
      await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
      await pool.end();
    }
  }
  return results;
}

/** The EventRecorded change our decider makes for the bench's event body, on a fresh timeline. */
export function recordedEventTemplate(): EventRecorded {
  const knownAt = new Date().toISOString();
  const create = {
    type: 'CreateTimeline',
    commandId: randomUUID(),
    fingerprint: 'bench',
    timelineId: TIMELINE_ID,
    expectedVersion: undefined,
    timeline: timelineDataSchema.parse({ title: 'Raw PostgreSQL', defaultLanguage: 'it' }),
  } as TimelineCommand;
  let state: PartitionState = initialState();
  const created = decide(create, state, { knownAt });
  if (created.outcome !== 'accepted') throw new Error(`raw PostgreSQL template: CreateTimeline ${created.reason}`);
  for (const change of created.changes) state = evolve(state, change);
  const record = {
    type: 'RecordEvent',
    commandId: randomUUID(),
    fingerprint: 'bench',
    timelineId: TIMELINE_ID,
    eventId: randomUUID(),
    expectedVersion: undefined,
    event: eventDataSchema.parse(EVENT_BODY),
  } as TimelineCommand;
  const recorded = decide(record, state, { knownAt });
  if (recorded.outcome !== 'accepted') throw new Error(`raw PostgreSQL template: RecordEvent ${recorded.reason}`);
  return recorded.changes[0] as EventRecorded;
}

/** The rows ProjectionRepository writes for one EventRecorded (eventRows, revisionRows), with fresh ids. */
export function rowPair(template: EventRecorded): RowPair {
  const eventId = randomUUID();
  const commandId = randomUUID();
  const state = { ...template.event, eventId };
  const stateJson = JSON.stringify(state);
  const { validTime } = state;
  return {
    event: [
      eventId,
      TIMELINE_ID,
      1,
      state.kind,
      state.language,
      state.factuality,
      validTime.text,
      validTime.precision,
      validTime.lower,
      validTime.upper,
      false,
      state.recordedAt,
      state.revisedAt,
      stateJson,
    ],
    revision: [
      eventId,
      1,
      TIMELINE_ID,
      'EventRecorded',
      commandId,
      null,
      '{}',
      '{}',
      stateJson,
      template.knownAt,
      null,
      state.kind,
      state.factuality,
      state.language,
      validTime.lower,
      validTime.upper,
      false,
      actorKeys(state),
      placeKeys(state),
      [...state.topics],
    ],
  };
}

/** One statement per table: a parameter array per column, unnested into rows. Arrays travel as array literals. */
export async function insertWithUnnest(client: PoolClient, rows: RowPair[]): Promise<void> {
  const statement = (table: string, columns: readonly string[], types: string[], pick: (row: RowPair) => Cell[]) => {
    const parameterTypes = types.map((type) => (type.endsWith('[]') ? 'text' : type));
    const selected = columns.map((column, index) => (types[index].endsWith('[]') ? `${column}::${types[index]}` : column));
    const text =
      `insert into ${table} (${columns.join(', ')}) select ${selected.join(', ')} from unnest(` +
      parameterTypes.map((type, index) => `$${index + 1}::${type}[]`).join(', ') +
      `) as r(${columns.join(', ')})`;
    const values = columns.map((_, index) =>
      rows.map((row) => {
        const cell = pick(row)[index];
        return Array.isArray(cell) ? arrayLiteral(cell) : cell;
      }),
    );
    return client.query(text, values);
  };
  await statement('events', EVENT_COLUMNS, EVENT_TYPES, (row) => row.event);
  await statement('event_revisions', REVISION_COLUMNS, REVISION_TYPES, (row) => row.revision);
}

/** One COPY ... FROM STDIN (CSV) per table. */
async function insertWithCopy(client: PoolClient, rows: RowPair[]): Promise<void> {
  const copy = async (table: string, columns: readonly string[], pick: (row: RowPair) => Cell[]) => {
    const csv = rows.map((row) => pick(row).map(csvField).join(',')).join('\n') + '\n';
    await pipeline(Readable.from([csv]), client.query(copyFrom(`copy ${table} (${columns.join(', ')}) from stdin with (format csv)`)));
  };
  await copy('events', EVENT_COLUMNS, (row) => row.event);
  await copy('event_revisions', REVISION_COLUMNS, (row) => row.revision);
}

function arrayLiteral(items: string[]): string {
  return `{${items.map((item) => `"${item.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
}

/** CSV: an unquoted empty field is NULL; everything else is quoted. */
function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = Array.isArray(cell) ? arrayLiteral(cell) : String(cell);
  return `"${text.replace(/"/g, '""')}"`;
}
