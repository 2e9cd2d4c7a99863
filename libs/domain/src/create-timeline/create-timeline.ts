import { z } from 'zod';
import type { TimelineCreated } from '../changes';
import { commandEnvelope } from '../command-envelope';
import { accept, reject, type Decision, type DecisionContext } from '../decision';
import { timelineDataSchema } from '../event-data';
import type { PartitionState } from '../state';

export const createTimelineSchema = z.strictObject({
  type: z.literal('CreateTimeline'),
  ...commandEnvelope,
  timeline: timelineDataSchema,
});
export type CreateTimeline = z.infer<typeof createTimelineSchema>;

/** Creating a timeline again with the same content is accepted and changes nothing: a retry. */
export function decideCreateTimeline(command: CreateTimeline, state: PartitionState, { knownAt }: DecisionContext): Decision {
  const existing = state.timelines.get(command.timelineId);
  if (existing) {
    const { title, description, defaultLanguage } = command.timeline;
    const sameContent = existing.title === title && existing.description === description && existing.defaultLanguage === defaultLanguage;
    if (sameContent) return accept();
    return reject('timeline_exists', `timeline ${command.timelineId} exists with other content`);
  }
  if (command.expectedVersion !== undefined && command.expectedVersion !== 0) {
    return reject('version_conflict', `timeline ${command.timelineId} does not exist; expected version ${command.expectedVersion}`);
  }
  return accept({
    type: 'TimelineCreated',
    commandId: command.commandId,
    timelineId: command.timelineId,
    version: 1,
    knownAt,
    timeline: command.timeline,
  });
}

export function evolveTimelineCreated(state: PartitionState, change: TimelineCreated): PartitionState {
  const timelines = new Map(state.timelines);
  timelines.set(change.timelineId, {
    timelineId: change.timelineId,
    ...change.timeline,
    version: change.version,
    eventCount: 0,
    createdAt: change.knownAt,
    updatedAt: change.knownAt,
  });
  return { ...state, timelines };
}
