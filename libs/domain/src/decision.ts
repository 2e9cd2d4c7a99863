import type { CommandType } from './commands';
import type { TimelineChange } from './timeline';

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

export const accept = (...changes: TimelineChange[]): Decision => ({ outcome: 'accepted', changes });
export const reject = (reason: RejectionReason, detail: string): Decision => ({ outcome: 'rejected', reason, detail });

/**
 * The decision on one command as it is recorded and read back: the projector
 * stores one per command id, the api answers a caller and tells a command's
 * status from it.
 */
export interface CommandDecision {
  readonly commandId: string;
  /** `unknown` for a record so malformed that it names no command type. */
  readonly commandType: CommandType | 'unknown';
  readonly timelineId: string | null;
  readonly eventId: string | null;
  readonly outcome: Decision['outcome'];
  readonly reason: RejectionReason | null;
  readonly detail: string | null;
  /** Hash of the request that produced the command; tells an idempotent retry from a reused key. */
  readonly fingerprint: string | null;
  /** The timeline's version after the command, when accepted. */
  readonly version: number | null;
  /** The event's revision after the command, when accepted and about an event. */
  readonly revision: number | null;
  /** False when an accepted command changed nothing (a retry, a revision to the same values). */
  readonly changed: boolean;
  /** Known time: the Kafka append time of the command's record. */
  readonly knownAt: string;
}
