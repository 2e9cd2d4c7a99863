import { COMMAND_HEADERS, type LogRecord } from '@timeline/command-log';
import type { DecisionRow, LoadedState, ProjectedBatch, ProjectedChange, ProjectedEvent } from '@timeline/database';
import {
  COMMAND_TYPES,
  decide,
  evolve,
  nameBasedUuid,
  parseCommandRecord,
  validTimeOf,
  type EventState,
  type TimelineCommand,
  type TimelineState,
  type TimelineView,
} from '@timeline/domain';

export interface ParsedRecord {
  record: LogRecord;
  command: TimelineCommand | null;
  /** Why the record is malformed, when `command` is null. */
  malformed: string | null;
}

export function parseRecord(record: LogRecord): ParsedRecord {
  const versionHeader = record.headers[COMMAND_HEADERS.schemaVersion];
  const schemaVersion = versionHeader === undefined ? undefined : Number(versionHeader);
  const parsed = parseCommandRecord(record.value, schemaVersion);
  return parsed.ok
    ? { record, command: parsed.command, malformed: null }
    : { record, command: null, malformed: parsed.detail };
}

/** What the batch needs loaded from PostgreSQL before it can be decided. */
export function referencedIds(records: ParsedRecord[]) {
  const commandIds = new Set<string>();
  const timelineIds = new Set<string>();
  const eventIds = new Set<string>();
  for (const { command } of records) {
    if (!command) continue;
    commandIds.add(command.commandId);
    timelineIds.add(command.timelineId);
    if ('eventId' in command) eventIds.add(command.eventId);
  }
  return { commandIds: [...commandIds], timelineIds: [...timelineIds], eventIds: [...eventIds] };
}

export type DecidedBatch = Pick<ProjectedBatch, 'decisions' | 'timelines' | 'events' | 'changes'>;

/**
 * Decides a partition's records in order against the loaded state. Pure: the
 * same records and state give the same decisions and changes, which is what
 * lets a replay from offset 0 rebuild identical read models.
 */
export function decideBatch(topic: string, records: ParsedRecord[], loaded: LoadedState, alreadyDecided: ReadonlySet<string>): DecidedBatch {
  const timelines = new Map<string, TimelineState>(loaded.timelines.map((timeline) => [timeline.timelineId, timeline]));
  const events = new Map<string, EventState>(loaded.events.map((event) => [event.eventId, event]));
  const decided = new Set(alreadyDecided);
  const touchedTimelines = new Set<string>();
  const touchedEvents = new Set<string>();
  const decisions: DecisionRow[] = [];
  const changes: ProjectedChange[] = [];

  for (const { record, command, malformed } of records) {
    const knownAt = new Date(record.timestamp).toISOString();
    const where = { partition: record.partition, offset: record.offset, knownAt };
    if (!command) {
      decisions.push(malformedDecision(topic, record, malformed ?? 'unreadable', where));
      continue;
    }
    // A command id is decided once; a second record of it (a producer retry, a reused key) changes nothing.
    if (decided.has(command.commandId)) continue;
    decided.add(command.commandId);

    const eventId = 'eventId' in command ? command.eventId : null;
    const event = eventId ? events.get(eventId) : undefined;
    const view: TimelineView = {
      timeline: timelines.get(command.timelineId) ?? null,
      events: new Map(event ? [[event.eventId, event]] : []),
    };
    const decision = decide(command, view, { knownAt });
    const base = {
      commandId: command.commandId,
      commandType: command.type,
      timelineId: command.timelineId,
      eventId,
      fingerprint: command.fingerprint ?? null,
      ...where,
    };
    if (decision.outcome === 'rejected') {
      decisions.push({ ...base, outcome: 'rejected', reason: decision.reason, detail: decision.detail, version: null, revision: null, changed: false });
      continue;
    }
    const after = decision.changes.reduce(evolve, view);
    if (after.timeline) timelines.set(after.timeline.timelineId, after.timeline);
    for (const changedEvent of after.events.values()) events.set(changedEvent.eventId, changedEvent);
    const traceparent = record.headers[COMMAND_HEADERS.traceparent] ?? null;
    decision.changes.forEach((change, index) => {
      changes.push({ change, index, traceparent });
      touchedTimelines.add(change.timelineId);
      if (change.type !== 'TimelineCreated') touchedEvents.add(change.eventId);
    });
    decisions.push({
      ...base,
      outcome: 'accepted',
      reason: null,
      detail: null,
      version: after.timeline?.version ?? null,
      revision: eventId ? (after.events.get(eventId)?.revision ?? null) : null,
      changed: decision.changes.length > 0,
    });
  }

  return {
    decisions,
    changes,
    timelines: [...touchedTimelines].map((id) => timelines.get(id)!),
    events: [...touchedEvents].map((id): ProjectedEvent => {
      const state = events.get(id)!;
      return { state, validTime: validTimeOf(state) };
    }),
  };
}

function malformedDecision(
  topic: string,
  record: LogRecord,
  detail: string,
  where: { partition: number; offset: number; knownAt: string },
): DecisionRow {
  const claimedType = record.headers[COMMAND_HEADERS.commandType];
  return {
    commandId: recordUuid(topic, record.partition, record.offset),
    commandType: COMMAND_TYPES.find((type) => type === claimedType) ?? 'unknown',
    timelineId: null,
    eventId: null,
    outcome: 'rejected',
    reason: 'malformed',
    detail,
    fingerprint: null,
    version: null,
    revision: null,
    changed: false,
    ...where,
  };
}

/** A stable id for a record that carries none of its own: the same record always gets the same id. */
export function recordUuid(topic: string, partition: number, offset: number): string {
  return nameBasedUuid(`record:${topic}/${partition}/${offset}`);
}
