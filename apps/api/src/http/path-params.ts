import { timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { parseOrThrow } from './problem';

export const parseTimelineId = (timelineId: string): string =>
  parseOrThrow(z.object({ timelineId: timelineIdSchema }), { timelineId }, 'path').timelineId;

export const parseEventId = (eventId: string): string =>
  parseOrThrow(z.object({ eventId: z.uuid() }), { eventId }, 'path').eventId;

export const parseCommandId = (commandId: string): string =>
  parseOrThrow(z.object({ commandId: z.uuid() }), { commandId }, 'path').commandId;
