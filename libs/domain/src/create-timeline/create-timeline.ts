import { z } from 'zod';
import { commandEnvelope } from '../command-envelope';
import { accept, reject, type Decision, type DecisionContext } from '../decision';
import { timelineDataSchema, type TimelineData } from '../event-data';
import type { ChangeBase, TimelineView } from '../timeline';

export const createTimelineSchema = z.strictObject({
  type: z.literal('CreateTimeline'),
  ...commandEnvelope,
  timeline: timelineDataSchema,
});
export type CreateTimeline = z.infer<typeof createTimelineSchema>;

export interface TimelineCreated extends ChangeBase {
  readonly type: 'TimelineCreated';
  readonly timeline: TimelineData;
}

/** Creating a timeline again with the same content is accepted and changes nothing: a retry. */
export function decideCreateTimeline(command: CreateTimeline, view: TimelineView, { knownAt }: DecisionContext): Decision {
  const existing = view.timeline;
  if (existing) {
    const { title, description, defaultLanguage } = command.timeline;
    const sameContent =
      existing.title === title && existing.description === description && existing.defaultLanguage === defaultLanguage;
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

export function evolveTimelineCreated(view: TimelineView, change: TimelineCreated): TimelineView {
  return {
    ...view,
    timeline: {
      timelineId: change.timelineId,
      ...change.timeline,
      version: change.version,
      eventCount: 0,
      createdAt: change.knownAt,
      updatedAt: change.knownAt,
    },
  };
}
