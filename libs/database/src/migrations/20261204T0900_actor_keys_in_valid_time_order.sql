-- An actor's events across every timeline, in valid-time order. The GIN index on actor_keys finds
-- the revisions naming an actor but not in order: a page fetched and sorted every one of them
-- (2,000 heap rows for a page of 50 at a million events). This table is an index in valid-time
-- order per actor key: a page walks it and reads only the revisions it returns.
-- Revisions are inserted and never deleted, and a revision's actor keys and valid time never
-- change (only known_to is set later), so a statement trigger on insert keeps it complete.
create table event_revision_actor_keys (
  actor_key   text not null,
  valid_lower date not null,
  event_id    uuid not null,
  revision    integer not null,
  primary key (actor_key, valid_lower, event_id, revision)
);

-- The table beside the revisions written, whatever the writer's search_path: a rebuild migrates
-- a schema under another name and renames it at the switch.
create function add_revision_actor_keys() returns trigger language plpgsql as $$
begin
  execute format(
    'insert into %I.event_revision_actor_keys (actor_key, valid_lower, event_id, revision)
     select distinct actor_key, inserted.valid_lower, inserted.event_id, inserted.revision
     from inserted, unnest(inserted.actor_keys) as actor_key',
    tg_table_schema);
  return null;
end
$$;

-- Once per statement: a projector batch (or a bulk load) adds its keys in one insert.
create trigger event_revisions_add_actor_keys
  after insert on event_revisions
  referencing new table as inserted
  for each statement execute function add_revision_actor_keys();

insert into event_revision_actor_keys (actor_key, valid_lower, event_id, revision)
select distinct actor_key, r.valid_lower, r.event_id, r.revision
from event_revisions r, unnest(r.actor_keys) as actor_key;
