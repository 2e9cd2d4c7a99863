import { z } from 'zod';
import { commandEnvelope, expectedRevisionSchema, reasonSchema } from '../command-envelope';
import { accept, type Decision, type DecisionContext } from '../decision';
import { findLiveEvent } from '../preconditions';
import { eventChangeBase, withEventChange, type ChangeBase, type EventState, type TimelineView } from '../timeline';

export const retractEventSchema = z.strictObject({
  type: z.literal('RetractEvent'),
  ...commandEnvelope,
  eventId: z.uuid(),
  expectedRevision: expectedRevisionSchema.optional(),
  reason: reasonSchema,
});
export type RetractEvent = z.infer<typeof retractEventSchema>;

export interface EventRetracted extends ChangeBase {
  readonly type: 'EventRetracted';
  readonly eventId: string;
  readonly revision: number;
  readonly reason: string;
  readonly event: EventState;
}

/** A retraction is a revision too: the event stays, marked retracted, with the reason. */
export function decideRetractEvent(command: RetractEvent, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const found = findLiveEvent(command, view);
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
export function evolveEventRetracted(view: TimelineView, change: EventRetracted): TimelineView {
  return withEventChange(view, change, -1);
}
