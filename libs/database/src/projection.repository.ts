import { Injectable } from '@nestjs/common';
import {
  eventStateFromJson,
  knownTimeRanges,
  type AsJson,
  REDACTED_FIELDS,
  type EventState,
  type RedactionKey,
  type RedactionKind,
  type TimelineChange,
  type TimelineState,
} from '@timeline/domain';
import { actorKeys, placeKeys } from './query-keys';
import type { DecisionRecord, DecisionRow } from './decision.repository';
import { batchLockSql } from './read-model-switch.repository';
import { timelineFromRow, toTimelineRow, type TimelineRow } from './timeline-row';
import { withTransaction } from './transaction';
import { Pool, type PoolClient } from 'pg';

export const DECISIONS_CHANNEL = 'timeline_decisions';
/** NOTIFY payloads must be shorter than 8000 bytes. */
const NOTIFICATION_PAYLOAD_BYTES = 7_999;

export interface ProjectedChange {
  change: TimelineChange;
  /** Position of the change among its command's changes: (commandId, index) identifies it forever. */
  index: number;
  traceparent: string | null;
}

/** Everything one batch of one partition writes, in one transaction. */
export interface ProjectedBatch {
  topic: string;
  partition: number;
  firstOffset: number;
  nextOffset: number;
  decisions: DecisionRow[];
  timelines: TimelineState[];
  events: EventState[];
  changes: ProjectedChange[];
  /** Command ids decided before whose record came again: notified, so that a waiter looks the decision up. */
  redelivered: string[];
}

/** A partition whose transactions fail: see the partition_failures table. */
export interface PartitionFailure {
  partition: number;
  failureClass: string;
  /** The last error, as a decision's detail would quote it. */
  error: string;
  /** First failure in a row (ISO 8601). */
  since: string;
  attempts: number;
}

export interface LoadedState {
  timelines: TimelineState[];
  events: EventState[];
  /** The redactions the partition decided before this batch: later commands are stripped of what they match. */
  redactions: RedactionKey[];
  /** When the batch is a redaction: the stored rows of the partition that carry its value. */
  redactionTargets: RedactionTargets | null;
}

/** The rows of one partition that carry a redacted value, as stored: what a redaction rewrites. */
export interface RedactionTargets {
  /** Current state of each event that carries the value in any revision. */
  events: EventState[];
  revisions: { event_id: string; revision: number; state: unknown; changed: unknown; previous: unknown }[];
  outbox: { position: number; payload: unknown }[];
}

/** What a redaction writes beside the batch: the rewritten rows and the partition's record of it. */
export interface RedactionWrite {
  redactionId: string;
  kind: RedactionKind;
  valueHash: string;
  partitions: number;
  commandId: string;
  knownAt: string;
  revisions: { event_id: string; revision: number; state: unknown; changed: unknown; previous: unknown; actor_keys: string[] }[];
  outbox: { position: number; payload: unknown }[];
  eventsRewritten: number;
}

/** The projector's reads and writes. Every method is one set-based statement. */
@Injectable()
export class ProjectionRepository {
  constructor(private readonly pool: Pool) {}

  inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return withTransaction(this.pool, work);
  }

  /** Records that the partition's transactions fail; outside any transaction, since theirs roll back. */
  async recordPartitionFailure(topic: string, failure: PartitionFailure): Promise<void> {
    await this.pool.query(
      `insert into partition_failures (topic, partition, failure_class, error, since, last_failed_at, attempts)
       values ($1, $2, $3, $4, $5, now(), $6)
       on conflict (topic, partition) do update set
         failure_class = excluded.failure_class, error = excluded.error, since = excluded.since,
         last_failed_at = excluded.last_failed_at, attempts = excluded.attempts`,
      [topic, failure.partition, failure.failureClass, failure.error, failure.since, failure.attempts],
    );
  }

  async clearPartitionFailure(topic: string, partition: number): Promise<void> {
    await this.pool.query('delete from partition_failures where topic = $1 and partition = $2', [topic, partition]);
  }

  /**
   * Locks the partition's offset row for this transaction and returns the next
   * offset to apply. The shared advisory lock lets a read-model switch wait for
   * batches in flight and hold new ones back while it swaps schemas.
   */
  async lockOffset(client: PoolClient, topic: string, partition: number): Promise<number> {
    const { rows } = await client.query<{ next_offset: number }>(
      `with batch_lock as (${batchLockSql})
       insert into consumer_offsets (topic, partition, next_offset)
       select $1, $2, 0 from batch_lock
       on conflict (topic, partition) do update set next_offset = consumer_offsets.next_offset
       returning next_offset`,
      [topic, partition],
    );
    return rows[0].next_offset;
  }

  /**
   * In one round trip: which commands are decided already, the timelines and events the batch refers to,
   * and the partition's redactions.
   */
  async loadBatchState(
    client: PoolClient,
    partition: number,
    ids: { commandIds: string[]; timelineIds: string[]; eventIds: string[]; redaction: RedactionKey | null },
  ): Promise<LoadedState & { alreadyDecided: Set<string> }> {
    const { rows } = await client.query<{
      decided: string[];
      timelines: TimelineRow[];
      events: AsJson<EventState>[];
      redactions: { kind: RedactionKind; valueHash: string }[];
    }>(
      `select
         (select coalesce(json_agg(command_id), '[]') from decisions where command_id = any($1::uuid[])) as decided,
         (select coalesce(json_agg(t), '[]')
          from (select timeline_id, title, description, default_language, version, event_count, created_at, updated_at
                from timelines where timeline_id = any($2::text[])) t) as timelines,
         (select coalesce(json_agg(state), '[]') from events where event_id = any($3::uuid[])) as events,
         (select coalesce(json_agg(json_build_object('kind', kind, 'valueHash', value_hash) order by known_at, redaction_id), '[]')
          from redactions where topic_partition = $4) as redactions`,
      [ids.commandIds, ids.timelineIds, ids.eventIds, partition],
    );
    const [loaded] = rows;
    const redactionTargets = ids.redaction ? await this.loadRedactionTargets(client, partition, ids.redaction) : null;
    const targetTimelines = redactionTargets
      ? await this.loadTimelines(
          client,
          redactionTargets.events.map((event) => event.timelineId),
        )
      : [];
    return {
      alreadyDecided: new Set(loaded.decided),
      timelines: [...loaded.timelines.map(timelineFromRow), ...targetTimelines],
      events: loaded.events.map(eventStateFromJson),
      redactions: loaded.redactions,
      redactionTargets,
    };
  }

  private async loadTimelines(client: PoolClient, timelineIds: string[]): Promise<TimelineState[]> {
    const { rows } = await client.query<TimelineRow>(
      `select timeline_id, title, description, default_language, version, event_count, created_at, updated_at
       from timelines where timeline_id = any($1::text[])`,
      [[...new Set(timelineIds)]],
    );
    return rows.map(timelineFromRow);
  }

  /**
   * The partition's rows that carry the value a redaction names: the revisions (written by commands the
   * partition decided) whose state, changed or previous fields hold an actor id / source URL of that hash,
   * the current state of their events, and the outbox rows of their changes, sent or not.
   */
  async loadRedactionTargets(client: PoolClient, partition: number, key: RedactionKey): Promise<RedactionTargets> {
    const fields = REDACTED_FIELDS[key.kind];
    const { rows } = await client.query<{ events: AsJson<EventState>[]; revisions: RedactionTargets['revisions']; outbox: RedactionTargets['outbox'] }>(
      `with carrying as (
         select r.event_id, r.revision, r.command_id, r.state, r.changed, r.previous
         from event_revisions r
         join decisions d on d.command_id = r.command_id
         where d.topic_partition = $1
           and exists (
             select 1
             from jsonb_array_elements(coalesce(r.state -> $2::text, '[]') || coalesce(r.changed -> $2::text, '[]')
                                       || coalesce(r.previous -> $2::text, '[]')) as element
             where encode(sha256(convert_to(btrim(element ->> $3::text), 'UTF8')), 'hex') = $4)
       )
       select
         (select coalesce(json_agg(e.state order by e.event_id), '[]')
          from events e where e.event_id in (select event_id from carrying)) as events,
         (select coalesce(json_agg(json_build_object('event_id', event_id, 'revision', revision, 'state', state,
                                                     'changed', changed, 'previous', previous) order by event_id, revision), '[]')
          from carrying) as revisions,
         (select coalesce(json_agg(json_build_object('position', o.position, 'payload', o.payload) order by o.position), '[]')
          from outbox o where o.command_id in (select command_id from carrying)) as outbox`,
      [partition, fields.array, fields.value, key.valueHash],
    );
    const [loaded] = rows;
    return { events: loaded.events.map(eventStateFromJson), revisions: loaded.revisions, outbox: loaded.outbox };
  }

  /**
   * Writes what a redaction rewrote: the revisions (their JSON and actor keys, and the actor keys index
   * rows they no longer have), the outbox rows, and the partition's record of the redaction. The
   * events' current states go with the batch (ProjectedBatch.events), their revisions unchanged.
   */
  async saveRedaction(client: PoolClient, partition: number, redaction: RedactionWrite): Promise<void> {
    await client.query(
      `with
       rewritten as (
         select * from jsonb_to_recordset($1::jsonb) as x(event_id uuid, revision integer, state jsonb, changed jsonb,
                                                          previous jsonb, actor_keys text[])
       ),
       revisions as (
         update event_revisions r set state = x.state, changed = x.changed, previous = x.previous, actor_keys = x.actor_keys
         from rewritten x
         where r.event_id = x.event_id and r.revision = x.revision
       ),
       -- A redaction only removes keys; the insert trigger does not run on updates.
       actor_keys as (
         delete from event_revision_actor_keys k
         using rewritten x
         where k.event_id = x.event_id and k.revision = x.revision and not (k.actor_key = any(x.actor_keys))
       ),
       outbox_rows as (
         update outbox o set payload = x.payload
         from jsonb_to_recordset($2::jsonb) as x(position bigint, payload jsonb)
         where o.position = x.position
       )
       insert into redactions (redaction_id, topic_partition, kind, value_hash, partitions, command_id, events_rewritten, known_at)
       values ($3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        JSON.stringify(redaction.revisions),
        JSON.stringify(redaction.outbox),
        redaction.redactionId,
        partition,
        redaction.kind,
        redaction.valueHash,
        redaction.partitions,
        redaction.commandId,
        redaction.eventsRewritten,
        redaction.knownAt,
      ],
    );
  }

  /**
   * Writes a decided batch and moves the partition's offset from `firstOffset`
   * to `nextOffset`, in one statement (one round trip: the fixed cost of a
   * batch matters when commands trickle in). Returns false when the stored
   * offset is not `firstOffset` (another owner got there first); the caller
   * must then roll back.
   */
  async saveBatch(client: PoolClient, batch: ProjectedBatch): Promise<boolean> {
    const revisions = revisionRows(batch.changes);
    const { rows } = await client.query<{ moved: number }>(
      `with
       -- The outbox rows, with positions from the one-row counter: its row stays locked until this batch
       -- commits, so a batch that commits later has higher positions and becomes visible after this one
       -- (a commit is visible before its locks are released). Listed first because PostgreSQL runs the
       -- sub-statements the main query does not read last-listed first: the counter is then taken after
       -- every other write, as late as it can be. Batches without changes leave the counter alone.
       outbox_positions as (
         update outbox_head set last_position = last_position + jsonb_array_length($10::jsonb)
         where jsonb_array_length($10::jsonb) > 0
         returning last_position - jsonb_array_length($10::jsonb) as before
       ),
       new_outbox as (
         insert into outbox (position, timeline_id, change_type, command_id, change_index, payload, traceparent, known_at)
         select outbox_positions.before + rows.position, o->>'timeline_id', o->>'change_type', (o->>'command_id')::uuid,
                (o->>'change_index')::smallint, o->'payload', o->>'traceparent', (o->>'known_at')::timestamptz
         from outbox_positions, jsonb_array_elements($10::jsonb) with ordinality as rows(o, position)
       ),
       moved as (
         update consumer_offsets set next_offset = $4
         where topic = $1 and partition = $2 and next_offset = $3
         returning 1
       ),
       new_decisions as (
         insert into decisions (command_id, command_type, timeline_id, event_id, outcome, reason, detail,
                                fingerprint, version, revision, changed, topic_partition, topic_offset, known_at)
         select command_id, command_type, timeline_id, event_id, outcome, reason, detail,
                fingerprint, version, revision, changed, topic_partition, topic_offset, known_at
         from jsonb_to_recordset($5::jsonb) as d(
           command_id uuid, command_type text, timeline_id text, event_id uuid, outcome text, reason text, detail text,
           fingerprint text, version integer, revision integer, changed boolean, topic_partition integer,
           topic_offset bigint, known_at timestamptz)
       ),
       changed_timelines as (
         insert into timelines (timeline_id, title, description, default_language, version, event_count, created_at, updated_at)
         select timeline_id, title, description, default_language, version, event_count, created_at, updated_at
         from jsonb_to_recordset($6::jsonb) as t(
           timeline_id text, title text, description text, default_language text, version integer,
           event_count integer, created_at timestamptz, updated_at timestamptz)
         on conflict (timeline_id) do update set
           version = excluded.version, event_count = excluded.event_count, updated_at = excluded.updated_at
       ),
       changed_events as (
         insert into events (event_id, timeline_id, revision, kind, language, factuality, valid_time, valid_precision,
                             valid_lower, valid_upper, retracted, recorded_at, revised_at, state)
         select event_id, timeline_id, revision, kind, language, factuality, valid_time, valid_precision,
                valid_lower, valid_upper, retracted, recorded_at, revised_at, state
         from jsonb_to_recordset($7::jsonb) as e(
           event_id uuid, timeline_id text, revision integer, kind text, language text, factuality text,
           valid_time text, valid_precision text, valid_lower date, valid_upper date, retracted boolean,
           recorded_at timestamptz, revised_at timestamptz, state jsonb)
         on conflict (event_id) do update set
           revision = excluded.revision, kind = excluded.kind, language = excluded.language,
           factuality = excluded.factuality, valid_time = excluded.valid_time,
           valid_precision = excluded.valid_precision, valid_lower = excluded.valid_lower,
           valid_upper = excluded.valid_upper, retracted = excluded.retracted,
           revised_at = excluded.revised_at, state = excluded.state
       ),
       new_revisions as (
         insert into event_revisions (event_id, revision, timeline_id, change_type, command_id, reason, changed, previous,
                                      state, known_from, known_to, kind, factuality, language, valid_lower, valid_upper,
                                      retracted, actor_keys, place_keys, topics)
         select event_id, revision, timeline_id, change_type, command_id, reason, changed, previous,
                state, known_from, known_to, kind, factuality, language, valid_lower, valid_upper,
                retracted, actor_keys, place_keys, topics
         from jsonb_to_recordset($8::jsonb) as r(
           event_id uuid, revision integer, timeline_id text, change_type text, command_id uuid, reason text,
           changed jsonb, previous jsonb, state jsonb, known_from timestamptz, known_to timestamptz, kind text,
           factuality text, language text, valid_lower date, valid_upper date, retracted boolean, actor_keys text[],
           place_keys text[], topics text[])
       ),
       -- Revisions replaced by the first new revision of their event, written by an earlier batch.
       replaced_revisions as (
         update event_revisions replaced set known_to = closed.known_to
         from jsonb_to_recordset($9::jsonb) as closed(event_id uuid, revision integer, known_to timestamptz)
         where replaced.event_id = closed.event_id and replaced.revision = closed.revision
       ),
       -- Wakes the API instances waiting for these decisions; delivered when the transaction commits.
       notified as (select pg_notify($11, command_ids) from unnest($12::text[]) as command_ids)
       select (select count(*) from moved)::int as moved, (select count(*) from notified)::int as notified`,
      [
        batch.topic,
        batch.partition,
        batch.firstOffset,
        batch.nextOffset,
        JSON.stringify(decisionRows(batch.decisions)),
        JSON.stringify(batch.timelines.map(toTimelineRow)),
        JSON.stringify(eventRows(batch.events)),
        JSON.stringify(revisions.inserted),
        JSON.stringify(revisions.replaced),
        JSON.stringify(outboxRows(batch.changes)),
        DECISIONS_CHANNEL,
        notificationPayloads([...notifiedDecisions(batch, revisions.inserted), ...batch.redelivered]),
      ],
    );
    return rows[0].moved === 1;
  }
}

// Rows for jsonb_to_recordset: keys are the column names.

function decisionRows(decisions: DecisionRow[]) {
  return decisions.map((d) => ({
    command_id: d.commandId,
    command_type: d.commandType,
    timeline_id: d.timelineId,
    event_id: d.eventId,
    outcome: d.outcome,
    reason: d.reason,
    detail: d.detail,
    fingerprint: d.fingerprint,
    version: d.version,
    revision: d.revision,
    changed: d.changed,
    topic_partition: d.partition,
    topic_offset: d.offset,
    known_at: d.knownAt,
  }));
}

function eventRows(events: EventState[]) {
  return events.map((state) => ({
    event_id: state.eventId,
    timeline_id: state.timelineId,
    revision: state.revision,
    kind: state.kind,
    language: state.language,
    factuality: state.factuality,
    valid_time: state.validTime.text,
    valid_precision: state.validTime.precision,
    valid_lower: state.validTime.lower,
    valid_upper: state.validTime.upper,
    retracted: state.retracted,
    recorded_at: state.recordedAt,
    revised_at: state.revisedAt,
    state,
  }));
}

/** The new revisions with their known-time ranges, and the earlier revisions they close (see knownTimeRanges). */
function revisionRows(changes: ProjectedChange[]) {
  const { revisions, replaced } = knownTimeRanges(changes.map(({ change }) => change));
  const inserted = revisions.map(({ change, knownFrom, knownTo }) => {
    const { event } = change;
    return {
      event_id: change.eventId,
      revision: change.revision,
      timeline_id: change.timelineId,
      change_type: change.type,
      command_id: change.commandId,
      reason: change.type === 'EventRecorded' ? null : change.reason,
      changed: change.type === 'EventRevised' ? change.changed : {},
      previous: change.type === 'EventRevised' ? change.previous : {},
      state: event,
      known_from: knownFrom,
      known_to: knownTo,
      kind: event.kind,
      factuality: event.factuality,
      language: event.language,
      valid_lower: event.validTime.lower,
      valid_upper: event.validTime.upper,
      retracted: event.retracted,
      actor_keys: actorKeys(event),
      place_keys: placeKeys(event),
      topics: event.topics,
    };
  });
  return { inserted, replaced: replaced.map(({ eventId, revision, knownTo }) => ({ event_id: eventId, revision, known_to: knownTo })) };
}

function outboxRows(changes: ProjectedChange[]) {
  return changes.map(({ change, index, traceparent }) => ({
    timeline_id: change.timelineId,
    change_type: change.type,
    command_id: change.commandId,
    change_index: index,
    payload: change,
    traceparent,
    known_at: change.knownAt,
  }));
}

/**
 * Each decision as the api answers from it (what `DecisionRepository.findByCommandIds` reads), when this batch
 * wrote everything it holds: a rejection, an accepted change with the revision or the timeline it made. Else
 * only the command id, and the api reads the decision (an accepted command that changed nothing).
 */
function notifiedDecisions(batch: ProjectedBatch, revisions: ReturnType<typeof revisionRows>['inserted']): (DecisionRecord | string)[] {
  const revisionStates = new Map(revisions.map((revision) => [`${revision.event_id}/${revision.revision}`, revision.state]));
  const timelines = new Map(batch.timelines.map((timeline) => [timeline.timelineId, timeline]));
  return batch.decisions.map((decision): DecisionRecord | string => {
    if (decision.outcome === 'rejected') return decision.revision === null ? { ...decision, event: null, timeline: null } : decision.commandId;
    if (decision.commandType === 'CreateTimeline') {
      const timeline = decision.changed ? timelines.get(decision.timelineId ?? '') : undefined;
      if (!timeline || decision.revision !== null) return decision.commandId;
      const { title, description, defaultLanguage, createdAt } = timeline;
      return { ...decision, event: null, timeline: { title, description, defaultLanguage, createdAt } };
    }
    const state = decision.changed ? revisionStates.get(`${decision.eventId}/${decision.revision}`) : undefined;
    return state ? { ...decision, event: state as unknown as DecisionRecord['event'], timeline: null } : decision.commandId;
  });
}

/**
 * NOTIFY payloads: JSON arrays of decisions (see `notifiedDecisions`) and command ids, each payload under the
 * size limit. A decision too large to fit goes as its command id.
 */
function notificationPayloads(entries: (DecisionRecord | string)[]): string[] {
  const payloads: string[] = [];
  let current: string[] = [];
  let bytes = 2; // the brackets
  for (const entry of entries) {
    let json = JSON.stringify(entry);
    if (Buffer.byteLength(json) + 2 > NOTIFICATION_PAYLOAD_BYTES && typeof entry !== 'string') json = JSON.stringify(entry.commandId);
    const size = Buffer.byteLength(json) + 1; // and its comma
    if (current.length > 0 && bytes + size > NOTIFICATION_PAYLOAD_BYTES) {
      payloads.push(`[${current.join(',')}]`);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += size;
  }
  if (current.length > 0) payloads.push(`[${current.join(',')}]`);
  return payloads;
}
