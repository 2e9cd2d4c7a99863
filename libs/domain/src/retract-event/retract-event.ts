import { z } from 'zod';
import type { EventRetracted } from '../changes';
import { commandEnvelope, expectedRevisionSchema, reasonSchema } from '../command-envelope';
import { accept, type Decision, type DecisionContext } from '../decision';
import { eventChangeBase, withEventChange } from '../event-change';
import { findLiveEvent } from '../preconditions';
import type { PartitionState } from '../state';

export const retractEventSchema = z.strictObject({
  type: z.literal('RetractEvent'),
  ...commandEnvelope,
  eventId: z.uuid(),
  expectedRevision: expectedRevisionSchema.optional(),
  reason: reasonSchema,
});
export type RetractEvent = z.infer<typeof retractEventSchema>;

/** A retraction is a revision too: the event stays, marked retracted, with the reason. */
export function decideRetractEvent(command: RetractEvent, state: PartitionState, { knownAt }: DecisionContext): Decision {
  const found = findLiveEvent(command, state);
  if ('outcome' in found) return found;
  const { timeline, event } = found;
  const revision = event.revision + 1;
  return accept({
    type: 'EventRetracted',
    ...eventChangeBase(command, timeline, knownAt, revision),
    reason: command.reason,
    event: { ...event, revision, retracted: true, retractionReason: command.reason, revisedAt: knownAt },
  });
}

/** A retracted event no longer counts as live. */
export function evolveEventRetracted(state: PartitionState, change: EventRetracted): PartitionState {
  return withEventChange(state, change, -1);
}
