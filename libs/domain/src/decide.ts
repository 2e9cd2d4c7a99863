import { isDeepStrictEqual } from 'node:util';
import type { CreateTimeline, RecordEvent, RetractEvent, ReviseEvent, TimelineCommand } from './commands';
import { EVENT_FIELDS, type EventData } from './event-data';
import type { EventState, TimelineChange, TimelineView } from './timeline';

export const REJECTION_REASONS = [
  // Given by the projector, not by decide: the record is not a command we can read,
  'malformed',
  // or the database refused what deciding it would write (see the projector's narrowing of failed batches).
  'unprocessable',
  'timeline_not_found',
  'timeline_exists',
  'event_not_found',
  'event_exists',
  'event_retracted',
  'version_conflict',
  'revision_conflict',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export type Decision =
  | { readonly outcome: 'accepted'; readonly changes: readonly TimelineChange[] }
  | { readonly outcome: 'rejected'; readonly reason: RejectionReason; readonly detail: string };

/** Facts from outside the command that the decider may use; never read from a clock. */
export interface DecisionContext {
  /** Known time: the Kafka append time of the command's record. */
  readonly knownAt: string;
}

const accept = (...changes: TimelineChange[]): Decision => ({ outcome: 'accepted', changes });
const reject = (reason: RejectionReason, detail: string): Decision => ({ outcome: 'rejected', reason, detail });

/** Pure: the same command against the same view and context always gives the same decision. */
export function decide(command: TimelineCommand, view: TimelineView, context: DecisionContext): Decision {
  switch (command.type) {
    case 'CreateTimeline':
      return createTimeline(command, view, context);
    case 'RecordEvent':
      return recordEvent(command, view, context);
    case 'ReviseEvent':
      return reviseEvent(command, view, context);
    case 'RetractEvent':
      return retractEvent(command, view, context);
    default: {
      const unknown: never = command;
      return unknown;
    }
  }
}

function createTimeline(command: CreateTimeline, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const existing = view.timeline;
  if (existing) {
    const { title, description, defaultLanguage } = command.timeline;
    const sameContent =
      existing.title === title && existing.description === description && existing.defaultLanguage === defaultLanguage;
    if (sameContent) return accept();
    return reject('timeline_exists', `timeline ${command.timelineId} exists with other content`);
  }
  if (command.expectedVersion !== undefined && command.expectedVersion !== 0) {
    return reject('version_conflict', `timeline ${command.timelineId} does not exist; expected version ${command.expectedVersion}`);
  }
  return accept({
    type: 'TimelineCreated',
    commandId: command.commandId,
    timelineId: command.timelineId,
    version: 1,
    knownAt,
    timeline: command.timeline,
  });
}

function recordEvent(command: RecordEvent, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const timeline = view.timeline;
  if (!timeline) return reject('timeline_not_found', `timeline ${command.timelineId} does not exist`);
  const versionConflict = checkVersion(command, timeline.version);
  if (versionConflict) return versionConflict;
  if (view.events.has(command.eventId)) return reject('event_exists', `event ${command.eventId} already exists`);
  const event: EventState = {
    ...command.event,
    eventId: command.eventId,
    timelineId: command.timelineId,
    revision: 1,
    retracted: false,
    retractionReason: null,
    recordedAt: knownAt,
    revisedAt: knownAt,
  };
  return accept({
    type: 'EventRecorded',
    commandId: command.commandId,
    timelineId: command.timelineId,
    version: timeline.version + 1,
    knownAt,
    eventId: command.eventId,
    revision: 1,
    event,
  });
}

function reviseEvent(command: ReviseEvent, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const found = findLiveEvent(command, view);
  if ('outcome' in found) return found;
  const { timeline, event } = found;
  const { changed, previous } = diffFields(event, command.changes);
  if (Object.keys(changed).length === 0) return accept();
  const revision = event.revision + 1;
  return accept({
    type: 'EventRevised',
    commandId: command.commandId,
    timelineId: command.timelineId,
    version: timeline.version + 1,
    knownAt,
    eventId: command.eventId,
    revision,
    reason: command.reason,
    changed,
    previous,
    event: { ...event, ...changed, revision, revisedAt: knownAt },
  });
}

function retractEvent(command: RetractEvent, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const found = findLiveEvent(command, view);
  if ('outcome' in found) return found;
  const { timeline, event } = found;
  const revision = event.revision + 1;
  return accept({
    type: 'EventRetracted',
    commandId: command.commandId,
    timelineId: command.timelineId,
    version: timeline.version + 1,
    knownAt,
    eventId: command.eventId,
    revision,
    reason: command.reason,
    event: { ...event, revision, retracted: true, retractionReason: command.reason, revisedAt: knownAt },
  });
}

/** The checks a revision and a retraction share, in the order callers see them. */
function findLiveEvent(command: ReviseEvent | RetractEvent, view: TimelineView) {
  const timeline = view.timeline;
  if (!timeline) return reject('timeline_not_found', `timeline ${command.timelineId} does not exist`);
  const event = view.events.get(command.eventId);
  if (!event || event.timelineId !== command.timelineId) {
    return reject('event_not_found', `event ${command.eventId} does not exist in timeline ${command.timelineId}`);
  }
  const versionConflict = checkVersion(command, timeline.version);
  if (versionConflict) return versionConflict;
  if (event.retracted) return reject('event_retracted', `event ${command.eventId} was retracted`);
  if (command.expectedRevision !== undefined && command.expectedRevision !== event.revision) {
    return reject('revision_conflict', `event ${command.eventId} is at revision ${event.revision}, not ${command.expectedRevision}`);
  }
  return { timeline, event };
}

function checkVersion(command: TimelineCommand, version: number): Decision | undefined {
  if (command.expectedVersion === undefined || command.expectedVersion === version) return undefined;
  return reject('version_conflict', `timeline ${command.timelineId} is at version ${version}, not ${command.expectedVersion}`);
}

/** Field-level difference: only the fields whose value really changes. */
function diffFields(event: EventData, changes: Partial<EventData>) {
  const changed: Record<string, unknown> = {};
  const previous: Record<string, unknown> = {};
  for (const field of EVENT_FIELDS) {
    if (!(field in changes) || changes[field] === undefined) continue;
    if (isDeepStrictEqual(changes[field], event[field])) continue;
    changed[field] = changes[field];
    previous[field] = event[field];
  }
  return { changed: changed as Partial<EventData>, previous: previous as Partial<EventData> };
}
