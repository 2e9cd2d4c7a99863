import type { EventData, TimelineData } from './event-data';
import type { RedactionKind } from './redaction';
import type { EventState } from './state';

/** What every change of a timeline says: the command, the timeline's version after it, and when. */
export interface ChangeBase {
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

/** A redaction's change of one timeline: `timeline.events` is ordered per timeline. */
export interface RedactionApplied extends ChangeBase {
  readonly type: 'RedactionApplied';
  readonly redactionId: string;
  readonly kind: RedactionKind;
  readonly valueHash: string;
  /** The timeline's events rewritten, in id order: drop or re-fetch them. */
  readonly eventIds: readonly string[];
}

/**
 * The partition recorded a redaction: its later commands are decided without
 * the value. Not a change of any timeline, so it is not published.
 */
export interface RedactionRecorded {
  readonly type: 'RedactionRecorded';
  readonly commandId: string;
  readonly redactionId: string;
  readonly kind: RedactionKind;
  readonly valueHash: string;
  /** How many partitions the topic had when the redaction was issued. */
  readonly partitions: number;
  /** Every event of the partition the redaction rewrote, in id order. */
  readonly eventIds: readonly string[];
  readonly knownAt: string;
}

export type EventChange = EventRecorded | EventRevised | EventRetracted;
/** The changes of a timeline: what `timeline.events` publishes. */
export type TimelineChange = TimelineCreated | EventChange | RedactionApplied;
/** Every change the decider makes. */
export type Change = TimelineChange | RedactionRecorded;
export type ChangeType = TimelineChange['type'];

/** Whether each kind of timeline change makes a new revision of an event; the compiler keeps it complete. */
const MAKES_REVISION = {
  TimelineCreated: false,
  EventRecorded: true,
  EventRevised: true,
  EventRetracted: true,
  RedactionApplied: false,
} as const satisfies Record<ChangeType, boolean>;

/** The types of change `timeline.events` carries. */
export const CHANGE_TYPES = Object.keys(MAKES_REVISION) as readonly ChangeType[];

export const isTimelineChange = (change: Change): change is TimelineChange => change.type !== 'RedactionRecorded';

/** Changes that make a new revision of an event. */
export const isEventChange = (change: Change): change is EventChange => change.type !== 'RedactionRecorded' && MAKES_REVISION[change.type];
