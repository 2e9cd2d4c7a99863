import { z } from 'zod';
import { createTimelineSchema } from './create-timeline/create-timeline';
import { recordEventSchema } from './record-event/record-event';
import { retractEventSchema } from './retract-event/retract-event';
import { reviseEventSchema } from './revise-event/revise-event';

export const commandSchema = z.discriminatedUnion('type', [
  createTimelineSchema,
  recordEventSchema,
  reviseEventSchema,
  retractEventSchema,
]);

export type TimelineCommand = z.infer<typeof commandSchema>;
export type CommandType = TimelineCommand['type'];
export const COMMAND_TYPES: readonly CommandType[] = ['CreateTimeline', 'RecordEvent', 'ReviseEvent', 'RetractEvent'];
