import { COMMAND_HEADERS, parseCommandRecord, TRACEPARENT, type LogRecord } from '@timeline/command-log';
import type { DecisionRow, LoadedState, ProjectedBatch, ProjectedChange } from '@timeline/database';
import {
  COMMAND_TYPES,
  decide,
  evolve,
  isEventChange,
  nameBasedUuid,
  timelineIdSchema,
  toStorableText,
  type CommandType,
  type EventState,
  type TimelineCommand,
  type TimelineState,
  type TimelineView,
} from '@timeline/domain';

/** What a malformed record still says about itself, each id checked as a command's would be. */
export interface ClaimedIds {
  commandId: string | null;
  commandType: CommandType | null;
  timelineId: string | null;
  eventId: string | null;
}

export interface ParsedRecord {
  record: LogRecord;
  command: TimelineCommand | null;
  /** Why the record is malformed, when `command` is null. */
  malformed: string | null;
  /** The ids a malformed record names, so that its decision is found under its command id. */
  claimed: ClaimedIds;
}

// A decision's detail quotes what the record said; keep it short.
const MAX_DETAIL_LENGTH = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NO_CLAIMS: ClaimedIds = { commandId: null, commandType: null, timelineId: null, eventId: null };

export function parseRecord(record: LogRecord): ParsedRecord {
  const versionHeader = record.headers[COMMAND_HEADERS.schemaVersion];
  const schemaVersion = versionHeader === undefined ? undefined : Number(versionHeader);
  const parsed = parseCommandRecord(record.value, schemaVersion);
  return parsed.ok
    ? { record, command: parsed.command, malformed: null, claimed: NO_CLAIMS }
    : { record, command: null, malformed: parsed.detail, claimed: claimedIds(record) };
}

/**
 * The ids a record that is not a valid command names: in its JSON, else the
 * command-id header. Only well-formed ids are taken, so a decision stored
 * under them never fails on them.
 */
export function claimedIds(record: LogRecord): ClaimedIds {
  let json: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(record.value?.toString() ?? 'null');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) json = value as Record<string, unknown>;
  } catch {
    // Not JSON: only the headers can say anything.
  }
  const uuid = (value: unknown) => (typeof value === 'string' && UUID.test(value) ? value : null);
  const commandType = (value: unknown) => COMMAND_TYPES.find((type) => type === value) ?? null;
  return {
    commandId: uuid(json.commandId) ?? uuid(record.headers[COMMAND_HEADERS.commandId]),
    commandType: commandType(json.type) ?? commandType(record.headers[COMMAND_HEADERS.commandType]),
    timelineId: timelineIdSchema.safeParse(json.timelineId).success ? (json.timelineId as string) : null,
    eventId: uuid(json.eventId),
  };
}

/** A message about a record, fit for a decision row: storable and bounded. */
export function decisionDetail(text: string): string {
  return toStorableText(text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH - 1)}…` : text);
}

/** What the batch needs loaded from PostgreSQL before it can be decided. */
export function referencedIds(records: ParsedRecord[]) {
  const commandIds = new Set<string>();
  const timelineIds = new Set<string>();
  const eventIds = new Set<string>();
  for (const { command, claimed } of records) {
    if (!command) {
      if (claimed.commandId) commandIds.add(claimed.commandId);
      continue;
    }
    commandIds.add(command.commandId);
    timelineIds.add(command.timelineId);
    if ('eventId' in command) eventIds.add(command.eventId);
  }
  return { commandIds: [...commandIds], timelineIds: [...timelineIds], eventIds: [...eventIds] };
}

export type DecidedBatch = Pick<ProjectedBatch, 'decisions' | 'timelines' | 'events' | 'changes' | 'redelivered'>;

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
  const redelivered: string[] = [];

  for (const { record, command, malformed, claimed } of records) {
    const knownAt = new Date(record.timestamp).toISOString();
    const where = { partition: record.partition, offset: record.offset, knownAt };
    if (!command) {
      // A malformed record of a command id decided already changes nothing: the first answer stands.
      if (claimed.commandId && decided.has(claimed.commandId)) {
        redelivered.push(claimed.commandId);
        continue;
      }
      const decision = rejectedRecord(topic, record, claimed, 'malformed', malformed ?? 'unreadable', where);
      decided.add(decision.commandId);
      decisions.push(decision);
      continue;
    }
    // A command id is decided once; a second record of it (a producer retry, a reused key) changes nothing,
    // but whoever waits for it (an Idempotency-Key retry that raced the first) is told to look the decision up.
    if (decided.has(command.commandId)) {
      redelivered.push(command.commandId);
      continue;
    }
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
    const traceparent = TRACEPARENT.test(record.headers[COMMAND_HEADERS.traceparent] ?? '') ? record.headers[COMMAND_HEADERS.traceparent]! : null;
    decision.changes.forEach((change, index) => {
      changes.push({ change, index, traceparent });
      touchedTimelines.add(change.timelineId);
      if (isEventChange(change)) touchedEvents.add(change.eventId);
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
    redelivered,
    timelines: [...touchedTimelines].map((id) => timelines.get(id)!),
    events: [...touchedEvents].map((id) => events.get(id)!),
  };
}

/**
 * The decision on a record that is not decided by `decide`: malformed, or
 * refused by the database (unprocessable). It is stored under the command id
 * the record names, else under an id derived from its place in the log.
 */
export function rejectedRecord(
  topic: string,
  record: LogRecord,
  claimed: ClaimedIds,
  reason: 'malformed' | 'unprocessable',
  detail: string,
  where: { partition: number; offset: number; knownAt: string },
): DecisionRow {
  return {
    commandId: claimed.commandId ?? recordUuid(topic, record.partition, record.offset),
    commandType: claimed.commandType ?? 'unknown',
    timelineId: claimed.timelineId,
    eventId: claimed.eventId,
    outcome: 'rejected',
    reason,
    detail: decisionDetail(detail),
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
