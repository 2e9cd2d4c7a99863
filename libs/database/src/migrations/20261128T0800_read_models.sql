-- Read models of the timeline service. Frozen once merged: change the schema in a new file.

-- GIN over (timeline, text): a search inside one timeline reads only that timeline's entries.
-- btree_gin is a trusted extension: the database owner may create it.
create extension if not exists btree_gin schema public;

create table timelines (
  timeline_id      text primary key,
  title            text not null,
  description      text not null,
  default_language text not null,
  version          integer not null,
  event_count      integer not null,
  created_at       timestamptz not null,
  updated_at       timestamptz not null
);

-- The current state of each event: `state` is what the decider and the API read,
-- the other columns are there to be filtered, sorted and indexed.
create table events (
  event_id          uuid primary key,
  timeline_id       text not null references timelines,
  revision          integer not null,
  kind              text not null,
  language          text not null,
  factuality        text not null,
  valid_time        text not null,
  valid_precision   text not null,
  valid_lower       date not null,
  valid_upper       date not null,
  retracted         boolean not null,
  recorded_at       timestamptz not null,
  revised_at        timestamptz not null,
  state             jsonb not null
);
-- Timeline pages in valid-time order (keyset on valid_lower, event_id); also min(valid_lower).
create index events_by_timeline_valid_time on events (timeline_id, valid_lower, event_id) where not retracted;
-- max(valid_upper) of a timeline.
create index events_by_timeline_valid_upper on events (timeline_id, valid_upper) where not retracted;

-- PostgreSQL's text search configuration for an ISO 639-1 language; `simple` where it has none.
create function text_search_config(language text) returns regconfig
language sql immutable parallel safe
return case language
  when 'ar' then 'pg_catalog.arabic' when 'hy' then 'pg_catalog.armenian' when 'eu' then 'pg_catalog.basque'
  when 'ca' then 'pg_catalog.catalan' when 'da' then 'pg_catalog.danish' when 'nl' then 'pg_catalog.dutch'
  when 'en' then 'pg_catalog.english' when 'fi' then 'pg_catalog.finnish' when 'fr' then 'pg_catalog.french'
  when 'de' then 'pg_catalog.german' when 'el' then 'pg_catalog.greek' when 'hi' then 'pg_catalog.hindi'
  when 'hu' then 'pg_catalog.hungarian' when 'id' then 'pg_catalog.indonesian' when 'ga' then 'pg_catalog.irish'
  when 'it' then 'pg_catalog.italian' when 'lt' then 'pg_catalog.lithuanian' when 'ne' then 'pg_catalog.nepali'
  when 'no' then 'pg_catalog.norwegian' when 'nb' then 'pg_catalog.norwegian' when 'pt' then 'pg_catalog.portuguese'
  when 'ro' then 'pg_catalog.romanian' when 'ru' then 'pg_catalog.russian' when 'sr' then 'pg_catalog.serbian'
  when 'es' then 'pg_catalog.spanish' when 'sv' then 'pg_catalog.swedish' when 'ta' then 'pg_catalog.tamil'
  when 'tr' then 'pg_catalog.turkish' when 'yi' then 'pg_catalog.yiddish'
  else 'pg_catalog.simple'
end::regconfig;

-- Every revision with the known-time range [known_from, known_to) in which it was current.
-- Timeline queries read this table: "current" is the revision whose range holds the
-- moment asked for, so one query answers both "now" and "as known at".
create table event_revisions (
  event_id      uuid not null,
  revision      integer not null,
  timeline_id   text not null,
  change_type   text not null,
  command_id    uuid not null,
  reason        text,
  changed       jsonb not null,
  previous      jsonb not null,
  state         jsonb not null,
  known_from    timestamptz not null,
  known_to      timestamptz,
  -- Query columns, taken from `state` when the revision is written.
  kind          text not null,
  factuality    text not null,
  language      text not null,
  valid_lower   date not null,
  valid_upper   date not null,
  retracted     boolean not null,
  -- `<actor id>` and `<actor id>#<role>`; lowercase place names and `country:<code>`.
  actor_keys    text[] not null,
  place_keys    text[] not null,
  topics        text[] not null,
  search        tsvector generated always as (
                  to_tsvector(text_search_config(language), (state->>'title') || ' ' || (state->>'summary'))
                ) stored,
  primary key (event_id, revision)
);
-- Pages of one timeline, and of all, in valid-time order at any known time.
create index event_revisions_by_timeline_valid_time on event_revisions (timeline_id, valid_lower, event_id);
create index event_revisions_by_valid_time on event_revisions (valid_lower, event_id);
create index event_revisions_by_actor on event_revisions using gin (actor_keys);
create index event_revisions_by_place on event_revisions using gin (place_keys);
create index event_revisions_by_topic on event_revisions using gin (topics);
create index event_revisions_by_text on event_revisions using gin (search);
create index event_revisions_by_timeline_text on event_revisions using gin (timeline_id, search);

-- One row for every command read from timeline.commands.
create table decisions (
  command_id      uuid primary key,
  command_type    text not null,
  timeline_id     text,
  event_id        uuid,
  outcome         text not null check (outcome in ('accepted', 'rejected')),
  reason          text,
  detail          text,
  fingerprint     text,
  version         integer,
  revision        integer,
  changed         boolean not null,
  topic_partition integer not null,
  topic_offset    bigint not null,
  known_at        timestamptz not null,
  unique (topic_partition, topic_offset)
);

-- Accepted changes waiting for the relay. transaction_id lets a reader stop
-- below rows of transactions still in flight (gap-safe reading).
create table outbox (
  position        bigint generated always as identity primary key,
  timeline_id     text not null,
  change_type     text not null,
  command_id      uuid not null,
  change_index    smallint not null,
  payload         jsonb not null,
  traceparent     text,
  known_at        timestamptz not null,
  transaction_id  xid8 not null default pg_current_xact_id(),
  sent_at         timestamptz,
  unique (command_id, change_index)
);
create index outbox_unsent on outbox (position) where sent_at is null;

-- The projector's position in each partition, written in the same transaction
-- as the read models. Kafka's own committed offsets are never read.
create table consumer_offsets (
  topic       text not null,
  partition   integer not null,
  next_offset bigint not null,
  primary key (topic, partition)
);
