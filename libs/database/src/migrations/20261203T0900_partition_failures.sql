-- Partitions whose projector transactions fail, as the projector that owns each one last saw it.
-- Written beside the failing transaction (which rolls back), deleted once the partition moves again.
-- The ops page reads it, so it is right whichever projector instance owns the partition.
create table partition_failures (
  topic          text not null,
  partition      integer not null,
  failure_class  text not null,
  error          text not null,
  since          timestamptz not null,
  last_failed_at timestamptz not null,
  attempts       integer not null,
  primary key (topic, partition)
);
