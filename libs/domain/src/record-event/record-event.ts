import { z } from 'zod';
import type { EventRecorded } from '../changes';
import { commandEnvelope } from '../command-envelope';
import { accept, reject, type Decision, type DecisionContext } from '../decision';
import { eventDataSchema } from '../event-data';
import { eventChangeBase, withEventChange } from '../event-change';
import { checkVersion } from '../preconditions';
import type { EventState, PartitionState } from '../state';

export const recordEventSchema = z.strictObject({
  type: z.literal('RecordEvent'),
  ...commandEnvelope,
  eventId: z.uuid(),
  event: eventDataSchema,
});
export type RecordEvent = z.infer<typeof recordEventSchema>;

export function decideRecordEvent(command: RecordEvent, state: PartitionState, { knownAt }: DecisionContext): Decision {
  const timeline = state.timelines.get(command.timelineId);
  if (!timeline) return reject('timeline_not_found', `timeline ${command.timelineId} does not exist`);
  const versionConflict = checkVersion(command, timeline.version);
  if (versionConflict) return versionConflict;
  if (state.events.has(command.eventId)) return reject('event_exists', `event ${command.eventId} already exists`);
  const event: EventState = {
    ...command.event,
    eventId: command.eventId,
    timelineId: command.timelineId,
    revision: 1,
    retracted: false,
    retractionReason: null,
    recordedAt: knownAt,
    revisedAt: knownAt,
  };
  return accept({ type: 'EventRecorded', ...eventChangeBase(command, timeline, knownAt, 1), event });
}

/** A recorded event is one more live event on its timeline. */
export function evolveEventRecorded(state: PartitionState, change: EventRecorded): PartitionState {
  return withEventChange(state, change, +1);
}
