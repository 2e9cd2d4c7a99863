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
import { timelineFromRow, toTimelineRow, type TimelineRow } from './timeline-row';
import { Pool, type PoolClient } from 'pg';

export const DECISIONS_CHANNEL = 'timeline_decisions';

export interface ProjectedChange {
  change: TimelineChange;
  /** Position of the change among its command's changes: (commandId, index) identifies it forever. */
  index: number;
  traceparent: string | null;
}

/** Everything one batch of one partition writes, in one statement. */
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

/** What a batch was decided on: the stored rows must still say so for it to be applied. */
export interface DecidedOn {
  /** Command ids taken as never decided before. */
  undecided: string[];
  /** Each timeline the decider looked at, with its version then (null: it did not exist). */
  timelines: { timelineId: string; version: number | null }[];
  /** Each event the decider looked at, with its revision then (null: it did not exist). */
  events: { eventId: string; revision: number | null }[];
}

/** A decided batch and what it was decided on: see `ProjectionRepository.applyBatch`. */
export interface BatchToApply extends ProjectedBatch {
  decidedOn: DecidedOn;
  /** A redaction decided in this batch: the rows it rewrote and its record. */
  redaction?: RedactionWrite;
}

export type ApplyOutcome =
  | { kind: 'applied' }
  /** The stored offset is not the batch's first: another owner applied records since. Nothing was written. */
  | { kind: 'offset-moved'; storedOffset: number }
  /** A row the batch was decided on is not as assumed (see DecidedOn). Nothing was written. */
  | { kind: 'state-changed' };

/** The partition's stored offset and the state a batch of it is decided on, read in one round trip. */
export interface LoadedPartition extends LoadedState {
  storedOffset: number;
  alreadyDecided: Set<string>;
}

/** The projector's reads and writes. A batch is one call: `applyBatch`. */
@Injectable()
export class ProjectionRepository {
  /** Whether an applied batch wakes the api instances waiting for its decisions (and the relays). */
  private notifying = true;

  constructor(private readonly pool: Pool) {}

  /**
   * For a rebuild's replay: its batches notify no one. The live projector has notified every decision the
   * replay decides again, so each notice would only wake every api instance and relay for nothing.
   */
  static forReplay(pool: Pool): ProjectionRepository {
    const repository = new ProjectionRepository(pool);
    repository.notifying = false;
    return repository;
  }

  /** Records that the partition's batches fail; in a statement of its own, since theirs write nothing. */
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
   * In one round trip: the partition's stored offset, which commands are decided already, the timelines and
   * events the batch refers to, and the partition's redactions (and, for a redaction, the rows it rewrites).
   * Read without a lock: `applyBatch` checks that what was read still holds.
   */
  async loadPartitionState(
    topic: string,
    partition: number,
    ids: { commandIds: string[]; timelineIds: string[]; eventIds: string[]; redaction: RedactionKey | null },
  ): Promise<LoadedPartition> {
    const { rows } = await this.pool.query<{
      stored_offset: number | null;
      decided: string[];
      timelines: TimelineRow[];
      events: AsJson<EventState>[];
      redactions: { kind: RedactionKind; valueHash: string }[];
    }>(
      `select
         (select next_offset from consumer_offsets where topic = $5 and partition = $4) as stored_offset,
         (select coalesce(json_agg(command_id), '[]') from decisions where command_id = any($1::uuid[])) as decided,
         (select coalesce(json_agg(t), '[]')
          from (select timeline_id, title, description, default_language, version, event_count, created_at, updated_at
                from timelines where timeline_id = any($2::text[])) t) as timelines,
         (select coalesce(json_agg(state), '[]') from events where event_id = any($3::uuid[])) as events,
         (select coalesce(json_agg(json_build_object('kind', kind, 'valueHash', value_hash) order by known_at, redaction_id), '[]')
          from redactions where topic_partition = $4) as redactions`,
      [ids.commandIds, ids.timelineIds, ids.eventIds, partition, topic],
    );
    const [loaded] = rows;
    const redactionTargets = ids.redaction ? await this.loadRedactionTargets(partition, ids.redaction) : null;
    const targetTimelines = redactionTargets ? await this.loadTimelines(redactionTargets.events.map((event) => event.timelineId)) : [];
    return {
      storedOffset: loaded.stored_offset ?? 0,
      alreadyDecided: new Set(loaded.decided),
      timelines: [...loaded.timelines.map(timelineFromRow), ...targetTimelines],
      events: loaded.events.map(eventStateFromJson),
      redactions: loaded.redactions,
      redactionTargets,
    };
  }

  private async loadTimelines(timelineIds: string[]): Promise<TimelineState[]> {
    const { rows } = await this.pool.query<TimelineRow>(
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
  async loadRedactionTargets(partition: number, key: RedactionKey): Promise<RedactionTargets> {
    const fields = REDACTED_FIELDS[key.kind];
    const { rows } = await this.pool.query<{ events: AsJson<EventState>[]; revisions: RedactionTargets['revisions']; outbox: RedactionTargets['outbox'] }>(
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
   * Applies a decided batch in one call, in autocommit (or in `connection`'s transaction): the function
   * apply_batch (migration 20261207T0900) moves the partition's offset from `firstOffset` to `nextOffset`
   * (compare-and-set) and writes the redaction, decisions, read models, outbox rows and the notification,
   * or writes nothing and says why (see ApplyOutcome). Each event state is sent once, in its revision row.
   */
  async applyBatch(batch: BatchToApply, connection: Pool | PoolClient = this.pool): Promise<ApplyOutcome> {
    const revisions = revisionRows(batch.changes);
    const revised = new Set(revisions.inserted.map((revision) => revision.event_id));
    const { decidedOn } = batch;
    const { rows } = await connection.query<{ batch_outcome: 'applied' | 'offset-moved' | 'state-changed'; stored_offset: number | null }>({
      // Named: prepared once per connection.
      name: 'apply_batch',
      text: 'select batch_outcome, stored_offset from apply_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)',
      values: [
        batch.topic,
        batch.partition,
        batch.firstOffset,
        batch.nextOffset,
        decidedOn.undecided,
        decidedOn.timelines.map((timeline) => timeline.timelineId),
        decidedOn.timelines.map((timeline) => timeline.version),
        decidedOn.events.map((event) => event.eventId),
        decidedOn.events.map((event) => event.revision),
        JSON.stringify(decisionRows(batch.decisions)),
        JSON.stringify(batch.timelines.map(toTimelineRow)),
        JSON.stringify(revisions.inserted),
        JSON.stringify(revisions.replaced),
        // Events rewritten without a new revision (a redaction): the others come with their revision.
        JSON.stringify(eventRows(batch.events.filter((event) => !revised.has(event.eventId)))),
        JSON.stringify(outboxRows(batch.changes)),
        JSON.stringify(this.notifying ? [...notifiedDecisions(batch, revisions.inserted), ...batch.redelivered] : []),
        DECISIONS_CHANNEL,
        batch.redaction ? JSON.stringify(redactionRow(batch.redaction)) : null,
      ],
    });
    const [{ batch_outcome: outcome, stored_offset: storedOffset }] = rows;
    if (outcome === 'offset-moved') return { kind: outcome, storedOffset: storedOffset ?? 0 };
    return { kind: outcome };
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

/** Current rows of events rewritten without a new revision; the function derives the other columns from `state`. */
function eventRows(events: EventState[]) {
  return events.map((state) => ({
    event_id: state.eventId,
    timeline_id: state.timelineId,
    revision: state.revision,
    valid_precision: state.validTime.precision,
    valid_lower: state.validTime.lower,
    valid_upper: state.validTime.upper,
    state,
  }));
}

/**
 * The new revisions with their known-time ranges (see knownTimeRanges), and the earlier revisions they
 * close. A revision carries its event's state, sent once: the function takes the columns it can read
 * from it (kind, factuality, language, retracted) there, and the event's current row and the outbox
 * payload of its change too.
 */
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
      valid_precision: event.validTime.precision,
      valid_lower: event.validTime.lower,
      valid_upper: event.validTime.upper,
      actor_keys: actorKeys(event),
      place_keys: placeKeys(event),
      topics: event.topics,
    };
  });
  return { inserted, replaced: replaced.map(({ eventId, revision, knownTo }) => ({ event_id: eventId, revision, known_to: knownTo })) };
}

/** Outbox rows; an event change's payload leaves its `event` out: the function adds the state of the revision it made. */
function outboxRows(changes: ProjectedChange[]) {
  return changes.map(({ change, index, traceparent }) => {
    const { event: _event, ...payload } = 'event' in change ? change : { ...change, event: undefined };
    return {
      timeline_id: change.timelineId,
      change_type: change.type,
      command_id: change.commandId,
      change_index: index,
      payload,
      event_id: 'event' in change ? change.eventId : null,
      revision: 'event' in change ? change.revision : null,
      traceparent,
      known_at: change.knownAt,
    };
  });
}

function redactionRow(redaction: RedactionWrite) {
  return {
    redaction_id: redaction.redactionId,
    kind: redaction.kind,
    value_hash: redaction.valueHash,
    partitions: redaction.partitions,
    command_id: redaction.commandId,
    events_rewritten: redaction.eventsRewritten,
    known_at: redaction.knownAt,
    revisions: redaction.revisions,
    outbox: redaction.outbox,
  };
}

/** A notified decision whose event the function adds: the state of the revision (eventId, revision) the batch wrote. */
type NotifiedDecision = DecisionRecord | (Omit<DecisionRecord, 'event'> & { withEvent: true }) | string;

/**
 * Each decision as the api answers from it (what `DecisionRepository.findByCommandIds` reads), when this batch
 * wrote everything it holds: a rejection, an accepted change with the revision or the timeline it made. Else
 * only the command id, and the api reads the decision (an accepted command that changed nothing). The
 * function packs them into NOTIFY payloads under the size limit; a decision too large goes as its command id.
 */
function notifiedDecisions(batch: ProjectedBatch, revisions: ReturnType<typeof revisionRows>['inserted']): NotifiedDecision[] {
  const written = new Set(revisions.map((revision) => `${revision.event_id}/${revision.revision}`));
  const timelines = new Map(batch.timelines.map((timeline) => [timeline.timelineId, timeline]));
  return batch.decisions.map((decision): NotifiedDecision => {
    if (decision.outcome === 'rejected') return decision.revision === null ? { ...decision, event: null, timeline: null } : decision.commandId;
    if (decision.commandType === 'CreateTimeline') {
      const timeline = decision.changed ? timelines.get(decision.timelineId ?? '') : undefined;
      if (!timeline || decision.revision !== null) return decision.commandId;
      const { title, description, defaultLanguage, createdAt } = timeline;
      return { ...decision, event: null, timeline: { title, description, defaultLanguage, createdAt } };
    }
    const madeRevision = decision.changed && written.has(`${decision.eventId}/${decision.revision}`);
    return madeRevision ? { ...decision, withEvent: true, timeline: null } : decision.commandId;
  });
}
