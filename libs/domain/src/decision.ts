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
