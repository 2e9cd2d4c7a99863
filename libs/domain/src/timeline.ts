import type { EventData, TimelineData } from './event-data';
import { parseValidTime, type ValidTime } from './valid-time';

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

interface ChangeBase {
  readonly commandId: string;
  readonly timelineId: string;
  /** The timeline's version after this change. */
  readonly version: number;
  /** Known time: the Kafka append time of the command that caused the change. */
  readonly knownAt: string;
}

export interface TimelineCreated extends ChangeBase {
  readonly type: 'TimelineCreated';
  readonly timeline: TimelineData;
}

export interface EventRecorded extends ChangeBase {
  readonly type: 'EventRecorded';
  readonly eventId: string;
  readonly revision: number;
  readonly event: EventState;
}

export interface EventRevised extends ChangeBase {
  readonly type: 'EventRevised';
  readonly eventId: string;
  readonly revision: number;
  readonly reason: string;
  /** The fields this revision changed, with their new values. */
  readonly changed: Partial<EventData>;
  /** The same fields with the values they had before. */
  readonly previous: Partial<EventData>;
  readonly event: EventState;
}

export interface EventRetracted extends ChangeBase {
  readonly type: 'EventRetracted';
  readonly eventId: string;
  readonly revision: number;
  readonly reason: string;
  readonly event: EventState;
}

export type TimelineChange = TimelineCreated | EventRecorded | EventRevised | EventRetracted;
export type ChangeType = TimelineChange['type'];
export const CHANGE_TYPES: readonly ChangeType[] = ['TimelineCreated', 'EventRecorded', 'EventRevised', 'EventRetracted'];

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

export function evolve(view: TimelineView, change: TimelineChange): TimelineView {
  switch (change.type) {
    case 'TimelineCreated':
      return {
        ...view,
        timeline: {
          timelineId: change.timelineId,
          ...change.timeline,
          version: change.version,
          eventCount: 0,
          createdAt: change.knownAt,
          updatedAt: change.knownAt,
        },
      };
    case 'EventRecorded':
      return withEvent(view, change, +1);
    case 'EventRevised':
      return withEvent(view, change, 0);
    case 'EventRetracted':
      return withEvent(view, change, -1);
    default: {
      const unknown: never = change;
      return unknown;
    }
  }
}

function withEvent(view: TimelineView, change: EventRecorded | EventRevised | EventRetracted, countDelta: number): TimelineView {
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

/** Valid time of an event; its text was validated when the command was parsed. */
export function validTimeOf(event: Pick<EventData, 'validTime'>): ValidTime {
  const validTime = parseValidTime(event.validTime);
  if (!validTime) throw new Error(`invalid valid time ${event.validTime}`);
  return validTime;
}
