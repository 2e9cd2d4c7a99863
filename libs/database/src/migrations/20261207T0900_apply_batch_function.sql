-- A projector batch in one call (ProjectionRepository.applyBatch): the offset compare-and-set, the read
-- models, decisions, outbox rows and the notification, in one round trip and in autocommit. PL/pgSQL keeps
-- each statement's plan for the session, so nothing is planned again per batch.
--
-- Each event state is sent once, in its revision row (p_revisions); the current row of the event, the
-- outbox payload and the notified decision take it from there. Only events rewritten without a new
-- revision (by a redaction) come in p_events.
--
-- The batch was decided on state the projector keeps in memory. It is applied only if the stored rows still
-- say what it was decided on: no command of it decided before, each timeline at the version and each event
-- at the revision it assumed (null: absent). Otherwise nothing is written and the answer is `state-changed`:
-- the projector reads the state and decides again. Tables are named without a schema: the caller's
-- search_path picks them (a rebuild migrates a schema under another name and renames it at the switch).
create function apply_batch(
  p_topic text,
  p_partition integer,
  p_first_offset bigint,
  p_next_offset bigint,
  p_undecided uuid[],
  p_timeline_ids text[],
  p_timeline_versions integer[],
  p_event_ids uuid[],
  p_event_revisions integer[],
  p_decisions jsonb,
  p_timelines jsonb,
  p_revisions jsonb,
  p_replaced jsonb,
  p_events jsonb,
  p_outbox jsonb,
  p_notifications jsonb,
  p_channel text,
  p_redaction jsonb
) returns table (batch_outcome text, stored_offset bigint)
language plpgsql as $$
declare
  -- NOTIFY payloads must be shorter than 8000 bytes.
  max_payload constant integer := 7999;
  changes_count integer := jsonb_array_length(p_outbox);
  first_position bigint;
  stored bigint;
  pending_payload text := '';
  entry_json text;
  entry_command_id text;
begin
  -- Shared by every batch of the schema; a read-model switch takes it exclusively (batchLockSql).
  perform pg_advisory_xact_lock_shared(hashtext(current_schema()));

  -- The compare-and-set, first as a read: a fenced-off owner is told so before anything else.
  stored := (select next_offset from consumer_offsets where topic = p_topic and partition = p_partition);
  if coalesce(stored, 0) <> p_first_offset then
    return query select 'offset-moved'::text, coalesce(stored, 0);
    return;
  end if;

  if exists (select 1 from decisions where command_id = any(p_undecided))
     or exists (select 1 from unnest(p_timeline_ids, p_timeline_versions) as assumed(timeline_id, version)
                left join timelines t on t.timeline_id = assumed.timeline_id
                where t.version is distinct from assumed.version)
     or exists (select 1 from unnest(p_event_ids, p_event_revisions) as assumed(event_id, revision)
                left join events e on e.event_id = assumed.event_id
                where e.revision is distinct from assumed.revision) then
    return query select 'state-changed'::text, null::bigint;
    return;
  end if;

  -- The compare-and-set, for good: its row stays locked until this commits, so a second owner's batch in
  -- flight waits here and then finds the offset moved, and writes nothing.
  update consumer_offsets set next_offset = p_next_offset
  where topic = p_topic and partition = p_partition and next_offset = p_first_offset;
  if not found and p_first_offset = 0 then
    insert into consumer_offsets (topic, partition, next_offset) values (p_topic, p_partition, p_next_offset)
    on conflict (topic, partition) do nothing;
  end if;
  if not found then
    return query select 'offset-moved'::text,
      coalesce((select next_offset from consumer_offsets where topic = p_topic and partition = p_partition), 0);
    return;
  end if;

  if p_redaction is not null then
    update event_revisions r set state = x.state, changed = x.changed, previous = x.previous, actor_keys = x.actor_keys
    from jsonb_to_recordset(p_redaction -> 'revisions') as x(event_id uuid, revision integer, state jsonb, changed jsonb,
                                                               previous jsonb, actor_keys text[])
    where r.event_id = x.event_id and r.revision = x.revision;
    -- A redaction only removes keys; the insert trigger does not run on updates.
    delete from event_revision_actor_keys k
    using jsonb_to_recordset(p_redaction -> 'revisions') as x(event_id uuid, revision integer, actor_keys text[])
    where k.event_id = x.event_id and k.revision = x.revision and not (k.actor_key = any(x.actor_keys));
    update outbox o set payload = x.payload
    from jsonb_to_recordset(p_redaction -> 'outbox') as x(position bigint, payload jsonb)
    where o.position = x.position;
    insert into redactions (redaction_id, topic_partition, kind, value_hash, partitions, command_id, events_rewritten, known_at)
    select x.redaction_id, p_partition, x.kind, x.value_hash, x.partitions, x.command_id, x.events_rewritten, x.known_at
    from jsonb_to_record(p_redaction) as x(redaction_id uuid, kind text, value_hash text, partitions integer, command_id uuid,
                                           events_rewritten integer, known_at timestamptz);
  end if;

  insert into decisions (command_id, command_type, timeline_id, event_id, outcome, reason, detail,
                         fingerprint, version, revision, changed, topic_partition, topic_offset, known_at)
  select command_id, command_type, timeline_id, event_id, outcome, reason, detail,
         fingerprint, version, revision, changed, topic_partition, topic_offset, known_at
  from jsonb_to_recordset(p_decisions) as d(
    command_id uuid, command_type text, timeline_id text, event_id uuid, outcome text, reason text, detail text,
    fingerprint text, version integer, revision integer, changed boolean, topic_partition integer,
    topic_offset bigint, known_at timestamptz);

  insert into timelines (timeline_id, title, description, default_language, version, event_count, created_at, updated_at)
  select timeline_id, title, description, default_language, version, event_count, created_at, updated_at
  from jsonb_to_recordset(p_timelines) as t(
    timeline_id text, title text, description text, default_language text, version integer,
    event_count integer, created_at timestamptz, updated_at timestamptz)
  on conflict (timeline_id) do update set
    version = excluded.version, event_count = excluded.event_count, updated_at = excluded.updated_at;

  insert into event_revisions (event_id, revision, timeline_id, change_type, command_id, reason, changed, previous,
                               state, known_from, known_to, kind, factuality, language, valid_lower, valid_upper,
                               retracted, actor_keys, place_keys, topics)
  select event_id, revision, timeline_id, change_type, command_id, reason, changed, previous,
         state, known_from, known_to, state ->> 'kind', state ->> 'factuality', state ->> 'language', valid_lower, valid_upper,
         (state ->> 'retracted')::boolean, actor_keys, place_keys, topics
  from jsonb_to_recordset(p_revisions) as r(
    event_id uuid, revision integer, timeline_id text, change_type text, command_id uuid, reason text,
    changed jsonb, previous jsonb, state jsonb, known_from timestamptz, known_to timestamptz,
    valid_lower date, valid_upper date, actor_keys text[], place_keys text[], topics text[]);

  -- Revisions replaced by the first new revision of their event, written by an earlier batch.
  update event_revisions replaced set known_to = closed.known_to
  from jsonb_to_recordset(p_replaced) as closed(event_id uuid, revision integer, known_to timestamptz)
  where replaced.event_id = closed.event_id and replaced.revision = closed.revision;

  -- The current row of each event: its last new revision, or the state a redaction rewrote.
  insert into events (event_id, timeline_id, revision, kind, language, factuality, valid_time, valid_precision,
                      valid_lower, valid_upper, retracted, recorded_at, revised_at, state)
  select event_id, timeline_id, revision, state ->> 'kind', state ->> 'language', state ->> 'factuality',
         state ->> 'validTime', valid_precision, valid_lower, valid_upper, (state ->> 'retracted')::boolean,
         (state ->> 'recordedAt')::timestamptz, (state ->> 'revisedAt')::timestamptz, state
  from (
    select distinct on (event_id) *
    from (
      select event_id, timeline_id, revision, state, valid_precision, valid_lower, valid_upper
      from jsonb_to_recordset(p_revisions) as r(event_id uuid, timeline_id text, revision integer, state jsonb,
                                                valid_precision text, valid_lower date, valid_upper date)
      union all
      select event_id, timeline_id, revision, state, valid_precision, valid_lower, valid_upper
      from jsonb_to_recordset(p_events) as e(event_id uuid, timeline_id text, revision integer, state jsonb,
                                             valid_precision text, valid_lower date, valid_upper date)
    ) as states
    order by event_id, revision desc
  ) as current
  on conflict (event_id) do update set
    revision = excluded.revision, kind = excluded.kind, language = excluded.language,
    factuality = excluded.factuality, valid_time = excluded.valid_time,
    valid_precision = excluded.valid_precision, valid_lower = excluded.valid_lower,
    valid_upper = excluded.valid_upper, retracted = excluded.retracted,
    revised_at = excluded.revised_at, state = excluded.state;

  -- The outbox rows, last: their positions come from the one-row counter, whose row stays locked until this
  -- batch commits, so a batch that commits later has higher positions and becomes visible after this one (a
  -- commit is visible before its locks are released). Batches without changes leave the counter alone.
  if changes_count > 0 then
    update outbox_head set last_position = last_position + changes_count
    returning last_position - changes_count into first_position;
    insert into outbox (position, timeline_id, change_type, command_id, change_index, payload, traceparent, known_at)
    select first_position + o.position, o.timeline_id, o.change_type, o.command_id, o.change_index,
           -- An event change carries the event's state: that of the revision it made.
           case when r.state is null then o.payload else o.payload || jsonb_build_object('event', r.state) end,
           o.traceparent, o.known_at
    from rows from (jsonb_to_recordset(p_outbox) as (timeline_id text, change_type text, command_id uuid, change_index smallint,
                                                     payload jsonb, event_id uuid, revision integer, traceparent text,
                                                     known_at timestamptz))
         with ordinality as o(timeline_id, change_type, command_id, change_index, payload, event_id, revision, traceparent,
                              known_at, position)
    left join jsonb_to_recordset(p_revisions) as r(event_id uuid, revision integer, state jsonb)
      on r.event_id = o.event_id and r.revision = o.revision;
  end if;

  -- Wakes the api instances waiting for these decisions; delivered when this commits. Each payload is a JSON
  -- array of decisions (with the event's state when the decision has one: `withEvent`) and command ids, under
  -- the size limit; a decision too large to fit goes as its command id.
  for entry_json, entry_command_id in
    select case
             when jsonb_typeof(n.value) <> 'object' then n.value::text
             when n.value ? 'withEvent' then ((n.value - 'withEvent') || jsonb_build_object('event', r.state))::text
             else n.value::text
           end,
           to_jsonb(coalesce(n.value ->> 'commandId', n.value #>> '{}'))::text
    from jsonb_array_elements(p_notifications) with ordinality as n(value, index)
    left join jsonb_to_recordset(p_revisions) as r(event_id uuid, revision integer, state jsonb)
      on jsonb_typeof(n.value) = 'object' and n.value ? 'withEvent'
         and r.event_id = (n.value ->> 'eventId')::uuid and r.revision = (n.value ->> 'revision')::integer
    order by n.index
  loop
    if octet_length(entry_json) + 2 > max_payload then
      entry_json := entry_command_id;
    end if;
    if pending_payload <> '' and octet_length(pending_payload) + octet_length(entry_json) + 3 > max_payload then
      perform pg_notify(p_channel, '[' || pending_payload || ']');
      pending_payload := '';
    end if;
    pending_payload := case when pending_payload = '' then entry_json else pending_payload || ',' || entry_json end;
  end loop;
  if pending_payload <> '' then
    perform pg_notify(p_channel, '[' || pending_payload || ']');
  end if;

  return query select 'applied'::text, p_next_offset;
end
$$;
