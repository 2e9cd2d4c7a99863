import type { EventData, TimelineData } from './event-data';
import type { RedactionKey } from './redaction';
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

/**
 * What the decider knows of one partition of the command log: a timeline's
 * commands all go to one partition, and a redaction is appended to every
 * partition and applies to all of it. `evolve` builds it from the changes;
 * the projector holds just the slice the commands at hand need, loaded from
 * PostgreSQL, instead of folding the whole log.
 */
export interface PartitionState {
  readonly timelines: ReadonlyMap<string, TimelineState>;
  readonly events: ReadonlyMap<string, EventState>;
  /**
   * By event id: the actor ids and source URLs (as redaction keys) the event
   * carried in any of its revisions, which a redaction of them rewrites.
   */
  readonly redactableValues: ReadonlyMap<string, readonly RedactionKey[]>;
  /** The partition's redactions in the order decided: later commands are decided without what they match. */
  readonly redactions: readonly RedactionKey[];
}

export const initialState = (): PartitionState => ({ timelines: new Map(), events: new Map(), redactableValues: new Map(), redactions: [] });

/** An event state read back from JSON (the read models); its text was a valid time when its command was decided. */
export function eventStateFromJson(json: AsJson<EventState>): EventState {
  const validTime = ValidTime.parse(json.validTime);
  if (!validTime) throw new Error(`stored valid time ${json.validTime} of event ${json.eventId} is not a valid time`);
  return { ...json, validTime };
}
