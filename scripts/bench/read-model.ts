/**
 * A read model generated in SQL straight into a schema made by our migrations (this is for measuring and
 * explaining reads, not the projector): timelines, events and their revisions, and, for the tests that
 * explain the projector's and the ops page's statements, decisions and outbox rows as the projector would
 * have left them. The migrations' own indexes are dropped for the bulk load and recreated from their
 * saved definitions.
 */
import type { Pool } from 'pg';

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

/** Fills `events`, `event_revisions` and `timelines` of the pool's schema (and the actor keys, by their trigger). */
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
                'place-' || (i % 1000) as place,
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
                'places', jsonb_build_array(jsonb_build_object('name', place)), 'topics', jsonb_build_array(topic), 'sources', '[]'::jsonb,
                'factuality', revision_factuality, 'relations', '[]'::jsonb, 'translations', '{}'::jsonb,
                'retracted', false, 'retractionReason', null,
                'recordedAt', recorded_at, 'revisedAt', known_from),
              known_from, known_to, kind, revision_factuality, language, valid_day, valid_day + 1, false,
              array[actor, actor || '#party'], array[place], array[topic]
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

/**
 * What the projector would have written beside the revisions: a decision per revision's command (known time and
 * log offsets in known-time order, over `partitions`), about one rejected command per hundred, an outbox row per
 * revision, all sent but the last `unsent`, and each partition's stored offset.
 */
export async function generateDecisionsAndOutbox(
  pool: Pool,
  { topic, partitions, unsent }: { topic: string; partitions: number; unsent: number },
): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('set synchronous_commit = off');
    await client.query(
      `insert into decisions (command_id, command_type, timeline_id, event_id, outcome, reason, detail, fingerprint, version,
                              revision, changed, topic_partition, topic_offset, known_at)
       select command_id, command_type, timeline_id, event_id, outcome, reason, null, null, null, revision, outcome = 'accepted',
              n % $1, n / $1, known_at
       from (
         select row_number() over (order by known_at, command_id) as n, *
         from (
           select command_id, case revision when 1 then 'RecordEvent' else 'ReviseEvent' end as command_type, timeline_id, event_id,
                  'accepted' as outcome, null as reason, revision, known_from as known_at
           from event_revisions
           union all
           select md5('rejected-' || event_id)::uuid, 'ReviseEvent', timeline_id, event_id, 'rejected', 'version-conflict', null,
                  known_from + interval '1 second'
           from event_revisions where revision = 1 and ('x' || left(event_id::text, 2))::bit(8)::int < 3
         ) as commands
       ) as numbered
       order by known_at`,
      [partitions],
    );
    await client.query(
      `insert into outbox (position, timeline_id, change_type, command_id, change_index, payload, traceparent, known_at, sent_at)
       select n, timeline_id, change_type, command_id, 0, jsonb_build_object('type', change_type, 'event', state), null, known_from,
              case when n <= total - $1 then known_from + interval '1 second' end
       from (select row_number() over (order by known_from, command_id) as n, count(*) over () as total, * from event_revisions) as numbered
       order by n`,
      [unsent],
    );
    await client.query('update outbox_head set last_position = (select coalesce(max(position), 0) from outbox)');
    await client.query(
      `insert into consumer_offsets (topic, partition, next_offset)
       select $1, topic_partition, max(topic_offset) + 1 from decisions group by topic_partition`,
      [topic],
    );
    await client.query('analyze decisions, outbox, outbox_head, consumer_offsets');
  } finally {
    client.release();
  }
}
