/**
 * Query latency on a read model of one million events across a few hundred
 * timelines. The rows are generated in SQL straight into the api's schema (this
 * measures reads, not the projector), with the migrations' own indexes: they
 * are dropped for the bulk load and recreated from their saved definitions.
 * Requests are sequential (light load) through HTTP against the running api.
 */
import type { Pool } from 'pg';
import { summarize, type LatencySummary } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface QueryLatencyResult {
  events: number;
  timelines: number;
  revisedShare: number;
  loadSeconds: number;
  queries: { name: string; path: string; latencyMs: LatencySummary }[];
}

const WORDS = [
  'vertice',
  'alleanza',
  'sicurezza',
  'cooperazione',
  'programma',
  'partenariato',
  'ufficio',
  'collegamento',
  'marittima',
  'spazio',
  'cyberspazio',
  'disinformazione',
  'leader',
  'ministro',
  'accordo',
  'difesa',
  'esercitazione',
  'dichiarazione',
  'sanzioni',
  'negoziato',
  'trattato',
  'adesione',
  'confine',
  'missione',
  'delegazione',
  'incontro',
  'conferenza',
  'bilancio',
  'energia',
  'commercio',
];
const KINDS = [
  'summit.attended',
  'programme.adopted',
  'proposal.shelved',
  'statement.made',
  'treaty.signed',
  'exercise.held',
  'meeting.held',
  'sanction.imposed',
];
const FACTUALITIES = ['confirmed', 'reported', 'expected', 'disputed'];

/** Fills `events`, `event_revisions` and `timelines` of the pool's schema. */
export async function generateReadModel(pool: Pool, events: number, timelines: number): Promise<{ seconds: number; knownAtMiddle: string }> {
  const started = Date.now();
  const client = await pool.connect();
  try {
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      `select indexname, indexdef from pg_indexes
       where schemaname = current_schema() and tablename in ('events', 'event_revisions') and indexname not like '%_pkey'`,
    );
    for (const index of indexes) await client.query(`drop index ${index.indexname}`);
    await client.query('set synchronous_commit = off');
    await client.query(
      `insert into timelines (timeline_id, title, description, default_language, version, event_count, created_at, updated_at)
       select 'bench-q-' || t, 'Timeline ' || t, '', 'it', 1 + $2::int / $1::int, $2::int / $1::int, now() - interval '400 days', now()
       from generate_series(1, $1::int) as t`,
      [timelines, events],
    );
    // One revision per event, a tenth with a second one; known times spread over the last 365 days.
    await client.query(
      `with generated as (
         select i,
                'bench-q-' || (i % $2 + 1) as timeline_id,
                md5('event-' || i)::uuid as event_id,
                date '1800-01-01' + (i::bigint * 7919 % 80000)::int as valid_day,
                ($3::text[])[i % array_length($3::text[], 1) + 1] as kind,
                ($4::text[])[i % 4 + 1] as factuality,
                case when i % 5 = 0 then 'en' else 'it' end as language,
                ($5::text[])[i % 30 + 1] || ' ' || ($5::text[])[(i / 30) % 30 + 1] || ' ' || ($5::text[])[(i / 900) % 30 + 1] as title,
                'actor-' || (i % 500) as actor,
                'topic-' || (i % 100) as topic,
                now() - interval '365 days' + (i % 31536000) * interval '1 second' as recorded_at
         from generate_series(1, $1::int) as i
       ),
       revisions as (
         select g.*, 1 as revision, recorded_at as known_from,
                case when i % 10 = 0 then recorded_at + interval '1 hour' end as known_to,
                case when i % 10 = 0 then 'expected' else factuality end as revision_factuality
         from generated g
         union all
         select g.*, 2, recorded_at + interval '1 hour', null, factuality
         from generated g where i % 10 = 0
       )
       insert into event_revisions (event_id, revision, timeline_id, change_type, command_id, reason, changed, previous, state,
                                    known_from, known_to, kind, factuality, language, valid_lower, valid_upper, retracted,
                                    actor_keys, place_keys, topics)
       select event_id, revision, timeline_id, case revision when 1 then 'EventRecorded' else 'EventRevised' end,
              md5('command-' || i || '-' || revision)::uuid, case revision when 1 then null else 'confirmed later' end,
              '{}', '{}',
              jsonb_build_object(
                'eventId', event_id, 'timelineId', timeline_id, 'revision', revision, 'kind', kind, 'title', title,
                'summary', 'Evento generato per il benchmark', 'language', language, 'validTime', to_char(valid_day, 'YYYY-MM-DD'),
                'actors', jsonb_build_array(jsonb_build_object('id', actor, 'name', actor, 'role', 'party')),
                'places', '[]'::jsonb, 'topics', jsonb_build_array(topic), 'sources', '[]'::jsonb,
                'factuality', revision_factuality, 'relations', '[]'::jsonb, 'translations', '{}'::jsonb,
                'retracted', false, 'retractionReason', null,
                'recordedAt', recorded_at, 'revisedAt', known_from),
              known_from, known_to, kind, revision_factuality, language, valid_day, valid_day + 1, false,
              array[actor, actor || '#party'], '{}', array[topic]
       from revisions`,
      [events, timelines, KINDS, FACTUALITIES, WORDS],
    );
    await client.query(
      `insert into events (event_id, timeline_id, revision, kind, language, factuality, valid_time, valid_precision,
                           valid_lower, valid_upper, retracted, recorded_at, revised_at, state)
       select event_id, timeline_id, revision, kind, language, factuality, state->>'validTime', 'day',
              valid_lower, valid_upper, false, (state->>'recordedAt')::timestamptz, known_from, state
       from event_revisions where known_to is null`,
    );
    for (const index of indexes) await client.query(index.indexdef);
    await client.query('analyze');
    const { rows } = await client.query<{ middle: Date }>(`select now() - interval '180 days' as middle`);
    return { seconds: (Date.now() - started) / 1000, knownAtMiddle: rows[0].middle.toISOString() };
  } finally {
    client.release();
  }
}

async function timeRequests(baseUrl: string, path: string, warmup: number, count: number): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let n = 0; n < warmup + count; n++) {
    const started = process.hrtime.bigint();
    const response = await fetch(`${baseUrl}${path}`, { headers: runCredentials.authorization });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
    if (n >= warmup) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return summarize(samples);
}

/** Follows `nextCursor` `pages` times and returns the path of the page reached. */
async function deepPagePath(baseUrl: string, path: string, pages: number): Promise<string> {
  let cursor = '';
  for (let n = 0; n < pages; n++) {
    const page = (await (await fetch(`${baseUrl}${path}${cursor ? `&cursor=${cursor}` : ''}`, { headers: runCredentials.authorization })).json()) as {
      nextCursor: string;
    };
    cursor = page.nextCursor;
  }
  return `${path}&cursor=${cursor}`;
}

export async function measureQueryLatency(
  baseUrl: string,
  pool: Pool,
  options = { events: 1_000_000, timelines: 300, requests: 300 },
): Promise<QueryLatencyResult> {
  const load = await generateReadModel(pool, options.events, options.timelines);
  const timeline = `/v1/timelines/bench-q-17/events`;
  const queries = [
    { name: 'first page of a timeline', path: `${timeline}?limit=50` },
    { name: 'deep cursor page (page 41)', path: await deepPagePath(baseUrl, `${timeline}?limit=50`, 40) },
    { name: 'knownAt, 180 days ago', path: `${timeline}?limit=50&knownAt=${load.knownAtMiddle}` },
    { name: 'q search in a timeline', path: `${timeline}?limit=20&q=collegamento` },
    { name: 'actor filter, all timelines', path: `/v1/events?limit=50&actor=actor-42` },
    { name: 'actor + knownAt, all timelines', path: `/v1/events?limit=50&actor=actor-42&knownAt=${load.knownAtMiddle}` },
  ];
  const measured = [];
  for (const query of queries) {
    measured.push({ ...query, latencyMs: await timeRequests(baseUrl, query.path, 30, options.requests) });
  }
  return { events: options.events, timelines: options.timelines, revisedShare: 0.1, loadSeconds: Math.round(load.seconds), queries: measured };
}
