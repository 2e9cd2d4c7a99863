import { z } from 'zod';
import type { EventRevised } from '../changes';
import { commandEnvelope, expectedRevisionSchema, reasonSchema } from '../command-envelope';
import { accept, type Decision, type DecisionContext } from '../decision';
import { EVENT_FIELDS, eventChangesSchema, type EventData } from '../event-data';
import { eventChangeBase, withEventChange } from '../event-change';
import { findLiveEvent } from '../preconditions';
import type { PartitionState } from '../state';

export const reviseEventSchema = z.strictObject({
  type: z.literal('ReviseEvent'),
  ...commandEnvelope,
  eventId: z.uuid(),
  expectedRevision: expectedRevisionSchema.optional(),
  changes: eventChangesSchema,
  reason: reasonSchema,
});
export type ReviseEvent = z.infer<typeof reviseEventSchema>;

/** A revision that changes no field's value is accepted and changes nothing. */
export function decideReviseEvent(command: ReviseEvent, state: PartitionState, { knownAt }: DecisionContext): Decision {
  const found = findLiveEvent(command, state);
  if ('outcome' in found) return found;
  const { timeline, event } = found;
  const { changed, previous } = diffFields(event, command.changes);
  if (Object.keys(changed).length === 0) return accept();
  const revision = event.revision + 1;
  return accept({
    type: 'EventRevised',
    ...eventChangeBase(command, timeline, knownAt, revision),
    reason: command.reason,
    changed,
    previous,
    event: { ...event, ...changed, revision, revisedAt: knownAt },
  });
}

export function evolveEventRevised(state: PartitionState, change: EventRevised): PartitionState {
  return withEventChange(state, change, 0);
}

/** Field-level difference: only the fields whose value really changes. */
function diffFields(event: EventData, changes: Partial<EventData>) {
  const changed: Record<string, unknown> = {};
  const previous: Record<string, unknown> = {};
  for (const field of EVENT_FIELDS) {
    if (!(field in changes) || changes[field] === undefined) continue;
    if (sameValue(changes[field], event[field])) continue;
    changed[field] = changes[field];
    previous[field] = event[field];
  }
  return { changed: changed as Partial<EventData>, previous: previous as Partial<EventData> };
}

/** Deep equality of event field values: plain data (text, numbers, arrays, records) and valid times. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
