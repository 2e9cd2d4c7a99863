import { COMMAND_HEADERS, parseCommandRecord, TRACEPARENT, type LogRecord } from '@timeline/command-log';
import { actorKeys, type DecisionRow, type LoadedState, type ProjectedBatch, type ProjectedChange, type RedactionWrite } from '@timeline/database';
import {
  COMMAND_TYPES,
  decide,
  decideRedact,
  evolve,
  isEventChange,
  nameBasedUuid,
  redactFields,
  redactJson,
  stripRedacted,
  timelineIdSchema,
  toStorableText,
  type CommandType,
  type EventState,
  type LogCommand,
  type Redact,
  type RedactionKey,
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
  command: LogCommand | null;
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
  let redaction: RedactionKey | null = null;
  for (const { command, claimed } of records) {
    if (!command) {
      if (claimed.commandId) commandIds.add(claimed.commandId);
      continue;
    }
    commandIds.add(command.commandId);
    if (command.type === 'Redact') {
      redaction ??= { kind: command.kind, valueHash: command.valueHash };
      continue;
    }
    timelineIds.add(command.timelineId);
    if ('eventId' in command) eventIds.add(command.eventId);
  }
  return { commandIds: [...commandIds], timelineIds: [...timelineIds], eventIds: [...eventIds], redaction };
}

/** A record the api wrote for a redaction: the projector decides it in a transaction of its own. */
export const isRedactionRecord = (record: LogRecord): boolean => record.headers[COMMAND_HEADERS.commandType] === 'Redact';

/**
 * The records cut so that each redaction is alone: a redaction rewrites what the
 * records before it stored, and the records after it see it.
 */
export function cutAtRedactions(records: LogRecord[]): LogRecord[][] {
  const chunks: LogRecord[][] = [];
  let current: LogRecord[] = [];
  for (const record of records) {
    if (!isRedactionRecord(record)) {
      current.push(record);
      continue;
    }
    if (current.length > 0) chunks.push(current);
    chunks.push([record]);
    current = [];
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The records a transaction decides: a redaction alone, else those before the
 * first redaction. Whatever way a batch was cut, a redaction then rewrites
 * exactly what the records before it stored.
 */
export function untilRedaction(records: ParsedRecord[]): ParsedRecord[] {
  const first = records.findIndex(({ command }) => command?.type === 'Redact');
  if (first === -1) return records;
  return first === 0 ? records.slice(0, 1) : records.slice(0, first);
}

export type DecidedBatch = Pick<ProjectedBatch, 'decisions' | 'timelines' | 'events' | 'changes' | 'redelivered'> & {
  /** A redaction decided in this batch: the rows it rewrote and its record. */
  redaction?: RedactionWrite;
};

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
  const redactions = [...loaded.redactions];
  let redaction: RedactionWrite | undefined;

  for (const { record, command: logCommand, malformed, claimed } of records) {
    const knownAt = new Date(record.timestamp).toISOString();
    const where = { partition: record.partition, offset: record.offset, knownAt };
    if (!logCommand) {
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
    if (decided.has(logCommand.commandId)) {
      redelivered.push(logCommand.commandId);
      continue;
    }
    decided.add(logCommand.commandId);
    const traceparent = TRACEPARENT.test(record.headers[COMMAND_HEADERS.traceparent] ?? '') ? record.headers[COMMAND_HEADERS.traceparent]! : null;

    if (logCommand.type === 'Redact') {
      const outcome = decideRedaction(logCommand, loaded, timelines, knownAt);
      redactions.push({ kind: logCommand.kind, valueHash: logCommand.valueHash });
      redaction = outcome.write;
      for (const event of outcome.events) {
        events.set(event.eventId, event);
        touchedEvents.add(event.eventId);
      }
      outcome.changes.forEach((change, index) => {
        changes.push({ change, index, traceparent });
        timelines.set(change.timelineId, { ...timelines.get(change.timelineId)!, version: change.version, updatedAt: change.knownAt });
        touchedTimelines.add(change.timelineId);
      });
      decisions.push({
        commandId: logCommand.commandId,
        commandType: 'Redact',
        timelineId: null,
        eventId: null,
        fingerprint: logCommand.fingerprint ?? null,
        ...where,
        outcome: 'accepted',
        reason: null,
        detail: null,
        version: null,
        revision: null,
        changed: outcome.changes.length > 0,
      });
      continue;
    }
    // Stripped of what the partition's redactions remove, before anything is decided or stored.
    const command: TimelineCommand = stripRedacted(logCommand, redactions);

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
    ...(redaction ? { redaction } : {}),
  };
}

/**
 * A redaction against the rows of the partition that carry its value: its
 * changes (one per timeline), the events' current states rewritten (same
 * revision), and every stored row rewritten without the value. Pure.
 */
function decideRedaction(command: Redact, loaded: LoadedState, timelines: ReadonlyMap<string, TimelineState>, knownAt: string) {
  const targets = loaded.redactionTargets ?? { events: [], revisions: [], outbox: [] };
  const keys = [{ kind: command.kind, valueHash: command.valueHash }];
  const decision = decideRedact(command, { timelines, events: targets.events }, { knownAt });
  const changes = decision.outcome === 'accepted' ? decision.changes.filter((change) => change.type === 'RedactionApplied') : [];
  const revisions = targets.revisions.map((row) => {
    const state = redactJson(row.state, keys) as EventState;
    return { ...row, state, changed: redactJson(row.changed, keys), previous: redactJson(row.previous, keys), actor_keys: actorKeys(state) };
  });
  const write: RedactionWrite = {
    redactionId: command.redactionId,
    kind: command.kind,
    valueHash: command.valueHash,
    partitions: command.partitions,
    commandId: command.commandId,
    knownAt,
    revisions,
    outbox: targets.outbox.map((row) => ({ position: row.position, payload: redactJson(row.payload, keys) })),
    eventsRewritten: targets.events.length,
  };
  return { changes, events: targets.events.map((event) => redactFields(event, keys)), write };
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
