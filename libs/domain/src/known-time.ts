import { isEventChange, type Change, type EventChange } from './changes';

/** A new revision with the known-time range `[knownFrom, knownTo)` in which it was the current one. */
export interface RevisionKnownTime {
  readonly change: EventChange;
  readonly knownFrom: string;
  /** Null while it is current. */
  readonly knownTo: string | null;
}

/** A revision recorded before these changes that one of them replaces: it was current until `knownTo`. */
export interface ReplacedRevision {
  readonly eventId: string;
  readonly revision: number;
  readonly knownTo: string;
}

export interface KnownTimeRanges {
  readonly revisions: readonly RevisionKnownTime[];
  readonly replaced: readonly ReplacedRevision[];
}

/**
 * Known time of revisions: a revision is current from its change's known time
 * until the next revision of its event is known. Of accepted changes in the
 * order they were decided: the range of each new revision, closed when a later
 * one of the same changes replaces it, and the earlier revisions whose ranges
 * the first new revision of their event closes.
 */
export function knownTimeRanges(changes: readonly Change[]): KnownTimeRanges {
  const eventChanges = changes.filter(isEventChange);
  const successorKnownAt = new Map(eventChanges.map((change) => [revisionKey(change.eventId, change.revision - 1), change.knownAt]));
  const revisions = eventChanges.map((change) => ({
    change,
    knownFrom: change.knownAt,
    knownTo: successorKnownAt.get(revisionKey(change.eventId, change.revision)) ?? null,
  }));
  const newRevisions = new Set(eventChanges.map((change) => revisionKey(change.eventId, change.revision)));
  const replaced = eventChanges
    .filter((change) => change.revision > 1 && !newRevisions.has(revisionKey(change.eventId, change.revision - 1)))
    .map((change) => ({ eventId: change.eventId, revision: change.revision - 1, knownTo: change.knownAt }));
  return { revisions, replaced };
}

const revisionKey = (eventId: string, revision: number) => `${eventId}/${revision}`;
