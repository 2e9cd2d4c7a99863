import type { TimelineCreated } from './create-timeline/create-timeline';
import type { EventData, TimelineData } from './event-data';
import type { EventRecorded } from './record-event/record-event';
import type { EventRetracted } from './retract-event/retract-event';
import type { RedactionApplied } from './redact/redact';
import type { EventRevised } from './revise-event/revise-event';
import { ValidTime, type AsJson } from './valid-time';

/** A timeline as the decider needs it: its own fields and the version that counts accepted changes. */
export interface TimelineState extends TimelineData {
  readonly timelineId: string;
  readonly version: number;
  readonly eventCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The current state of one historical event. */
export interface EventState extends EventData {
  readonly eventId: string;
  readonly timelineId: string;
  readonly revision: number;
  readonly retracted: boolean;
  readonly retractionReason: string | null;
  /** Known time of the first revision. */
  readonly recordedAt: string;
  /** Known time of the current revision. */
  readonly revisedAt: string;
}

export interface ChangeBase {
  readonly commandId: string;
  readonly timelineId: string;
  /** The timeline's version after this change. */
  readonly version: number;
  /** Known time: the Kafka append time of the command that caused the change. */
  readonly knownAt: string;
}

export type EventChange = EventRecorded | EventRevised | EventRetracted;

/** What every change of an event says first: the command, the timeline's next version, when, and the event's new revision. */
export function eventChangeBase(
  command: { readonly commandId: string; readonly timelineId: string; readonly eventId: string },
  timeline: TimelineState,
  knownAt: string,
  revision: number,
) {
  return { commandId: command.commandId, timelineId: command.timelineId, version: timeline.version + 1, knownAt, eventId: command.eventId, revision };
}
export type TimelineChange = TimelineCreated | EventChange | RedactionApplied;
export type ChangeType = TimelineChange['type'];
export const CHANGE_TYPES: readonly ChangeType[] = ['TimelineCreated', 'EventRecorded', 'EventRevised', 'EventRetracted', 'RedactionApplied'];

/** Changes that make a new revision of an event. */
export const isEventChange = (change: TimelineChange): change is EventChange =>
  change.type === 'EventRecorded' || change.type === 'EventRevised' || change.type === 'EventRetracted';

/**
 * What the decider sees of a timeline: the timeline itself (null until it is
 * created) and the events that the commands at hand refer to. The projector
 * loads just that slice from PostgreSQL instead of the whole stream.
 */
export interface TimelineView {
  readonly timeline: TimelineState | null;
  readonly events: ReadonlyMap<string, EventState>;
}

export const emptyView = (): TimelineView => ({ timeline: null, events: new Map() });

/** The view with an event changed: the change's event state, the timeline's new version, `countDelta` more live events. */
export function withEventChange(view: TimelineView, change: EventChange, countDelta: number): TimelineView {
  if (!view.timeline) return view;
  const events = new Map(view.events);
  events.set(change.eventId, change.event);
  return {
    timeline: {
      ...view.timeline,
      version: change.version,
      eventCount: view.timeline.eventCount + countDelta,
      updatedAt: change.knownAt,
    },
    events,
  };
}

/** An event state read back from JSON (the read models); its text was a valid time when its command was decided. */
export function eventStateFromJson(json: AsJson<EventState>): EventState {
  const validTime = ValidTime.parse(json.validTime);
  if (!validTime) throw new Error(`stored valid time ${json.validTime} of event ${json.eventId} is not a valid time`);
  return { ...json, validTime };
}
