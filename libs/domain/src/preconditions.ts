import type { TimelineCommand } from './commands';
import { reject, type Decision } from './decision';
import type { RetractEvent } from './retract-event/retract-event';
import type { ReviseEvent } from './revise-event/revise-event';
import type { TimelineView } from './timeline';

/** A version conflict when the command expects another version of the timeline than `version`. */
export function checkVersion(command: TimelineCommand, version: number): Decision | undefined {
  if (command.expectedVersion === undefined || command.expectedVersion === version) return undefined;
  return reject('version_conflict', `timeline ${command.timelineId} is at version ${version}, not ${command.expectedVersion}`);
}

/** The checks a revision and a retraction share, in the order callers see them. */
export function findLiveEvent(command: ReviseEvent | RetractEvent, view: TimelineView) {
  const timeline = view.timeline;
  if (!timeline) return reject('timeline_not_found', `timeline ${command.timelineId} does not exist`);
  const event = view.events.get(command.eventId);
  if (!event || event.timelineId !== command.timelineId) {
    return reject('event_not_found', `event ${command.eventId} does not exist in timeline ${command.timelineId}`);
  }
  const versionConflict = checkVersion(command, timeline.version);
  if (versionConflict) return versionConflict;
  if (event.retracted) return reject('event_retracted', `event ${command.eventId} was retracted`);
  if (command.expectedRevision !== undefined && command.expectedRevision !== event.revision) {
    return reject('revision_conflict', `event ${command.eventId} is at revision ${event.revision}, not ${command.expectedRevision}`);
  }
  return { timeline, event };
}
