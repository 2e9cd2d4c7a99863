-- Outbox positions in commit order, taken under a lock. Readers used to stop below the oldest
-- transaction still running on the whole server (pg_snapshot_xmin), so a transaction left open in
-- any database of the server held every subscriber back. Now the projector takes the positions of
-- a batch from this one-row counter, in the statement that writes the batch's outbox rows
-- (ProjectionRepository.saveBatch); the row stays locked until the batch commits, and PostgreSQL
-- makes a commit visible before it releases the transaction's locks. So a batch that commits later
-- always has higher positions and becomes visible after every lower one, and readers read
-- `position > x order by position`: nothing below a position they have read can still appear.

-- Waits for writers in flight and holds new ones until this migration commits.
alter table outbox
  alter column position drop identity,
  -- Kept on the rows written before this migration: a resume token naming one of them resumes in
  -- the order readers used then (OutboxRepository.resumeAfter). Rows written from now on have none.
  alter column transaction_id drop not null,
  alter column transaction_id drop default;

-- A writer that does not take its positions from outbox_head (a projector older than this migration,
-- still running during an upgrade) fails with a fault of ours, class 55, which the projector retries,
-- rather than class 23 (not null), which it would take for a record the database refuses.
create function outbox_position_not_taken() returns bigint language plpgsql as $$
begin
  raise exception 'outbox positions are taken from outbox_head (migration 20261203T1000_outbox_positions_under_lock)'
    using errcode = 'object_not_in_prerequisite_state';
end
$$;
alter table outbox alter column position set default outbox_position_not_taken();

create table outbox_head (
  single        boolean primary key default true check (single),
  -- The highest position handed out; positions are taken by adding to it.
  last_position bigint not null
);
insert into outbox_head (last_position) select coalesce(max(position), 0) from outbox;

drop index outbox_stream_order;
drop index outbox_unsent_stream_order;
create index outbox_unsent on outbox (position) where sent_at is null;
create index outbox_before_positions_under_lock on outbox (transaction_id, position) where transaction_id is not null;
