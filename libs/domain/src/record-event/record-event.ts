import { z } from 'zod';
import { commandEnvelope } from '../command-envelope';
import { accept, reject, type Decision, type DecisionContext } from '../decision';
import { eventDataSchema } from '../event-data';
import { checkVersion } from '../preconditions';
import { eventChangeBase, withEventChange, type ChangeBase, type EventState, type TimelineView } from '../timeline';

export const recordEventSchema = z.strictObject({
  type: z.literal('RecordEvent'),
  ...commandEnvelope,
  eventId: z.uuid(),
  event: eventDataSchema,
});
export type RecordEvent = z.infer<typeof recordEventSchema>;

export interface EventRecorded extends ChangeBase {
  readonly type: 'EventRecorded';
  readonly eventId: string;
  readonly revision: number;
  readonly event: EventState;
}

export function decideRecordEvent(command: RecordEvent, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const timeline = view.timeline;
  if (!timeline) return reject('timeline_not_found', `timeline ${command.timelineId} does not exist`);
  const versionConflict = checkVersion(command, timeline.version);
  if (versionConflict) return versionConflict;
  if (view.events.has(command.eventId)) return reject('event_exists', `event ${command.eventId} already exists`);
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
export function evolveEventRecorded(view: TimelineView, change: EventRecorded): TimelineView {
  return withEventChange(view, change, +1);
}
