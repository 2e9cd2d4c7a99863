-- Read models of the timeline service. Frozen once merged: change the schema in a new file.

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

-- Every revision with the known-time range [known_from, known_to) in which it was current.
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
  primary key (event_id, revision)
);

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
