import { reject, type Decision } from './decision';
import type { PartitionState } from './state';

interface TimelineCommandFields {
  readonly timelineId: string;
  readonly expectedVersion?: number;
}

interface EventCommandFields extends TimelineCommandFields {
  readonly eventId: string;
  readonly expectedRevision?: number;
}

/** A version conflict when the command expects another version of the timeline than `version`. */
export function checkVersion(command: TimelineCommandFields, version: number): Decision | undefined {
  if (command.expectedVersion === undefined || command.expectedVersion === version) return undefined;
  return reject('version_conflict', `timeline ${command.timelineId} is at version ${version}, not ${command.expectedVersion}`);
}

/** The checks a revision and a retraction share, in the order callers see them. */
export function findLiveEvent(command: EventCommandFields, state: PartitionState) {
  const timeline = state.timelines.get(command.timelineId);
  if (!timeline) return reject('timeline_not_found', `timeline ${command.timelineId} does not exist`);
  const event = state.events.get(command.eventId);
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
