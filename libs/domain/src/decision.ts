import type { Change } from './changes';

/** Why the decider rejects a command. */
export const REJECTION_REASONS = [
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
  | { readonly outcome: 'accepted'; readonly changes: readonly Change[] }
  | { readonly outcome: 'rejected'; readonly reason: RejectionReason; readonly detail: string };

/** Facts from outside the command that the decider may use; never read from a clock. */
export interface DecisionContext {
  /** Known time: the Kafka append time of the command's record. */
  readonly knownAt: string;
}

export const accept = (...changes: Change[]): Decision => ({ outcome: 'accepted', changes });
export const reject = (reason: RejectionReason, detail: string): Decision => ({ outcome: 'rejected', reason, detail });
