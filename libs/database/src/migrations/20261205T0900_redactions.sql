-- Redactions (docs/redaction.md): one row per partition of timeline.commands that decided a `Redact`
-- command, in the projector's transaction. Later commands of the partition are stripped of what its
-- rows match before they are decided. The value is never stored: `value_hash` is the SHA-256 (hex) of
-- the trimmed actor id or source URL.
create table redactions (
  redaction_id     uuid not null,
  topic_partition  integer not null,
  kind             text not null check (kind in ('actor', 'source')),
  value_hash       text not null check (value_hash ~ '^[0-9a-f]{64}$'),
  -- How many partitions the topic had when the redaction was issued: it is done when that many rows exist.
  partitions       integer not null,
  command_id       uuid not null,
  events_rewritten integer not null,
  known_at         timestamptz not null,
  primary key (redaction_id, topic_partition)
);
-- The projector reads its partition's redactions with every batch.
create index redactions_by_partition on redactions (topic_partition);
