import { eventDataSchema, languageSchema, timelineDataSchema, timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { instant, named, version, type Returns } from '../http/response-schemas';
import type { TimelinePage } from './timeline.queries';

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});
export const recordEventBodySchema = eventDataSchema.extend({ eventId: z.uuid().optional() });
export type RecordEventBody = z.infer<typeof recordEventBodySchema>;

export const timelineSummarySchema = named(
  z.strictObject({
    timelineId: timelineIdSchema,
    title: z.string(),
    description: z.string(),
    defaultLanguage: languageSchema,
    version,
    eventCount: z.number().int().nonnegative(),
    validTime: z
      .strictObject({ earliest: z.iso.date(), latest: z.iso.date() })
      .nullable()
      .describe('First and last day covered by a current event; null while the timeline has none'),
    createdAt: instant,
    updatedAt: instant,
  }),
  'TimelineSummary',
  'A timeline with its event count and valid-time bounds',
);

export const timelinePageSchema = named(
  z.strictObject({
    timelines: z.array(timelineSummarySchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  }),
  'TimelinePage',
  'Timelines in id order',
);

export const timelineAnswerSchema = named(
  timelineDataSchema.extend({
    timelineId: timelineIdSchema,
    createdAt: instant,
    version,
    commandId: z.uuid().describe('The command that created (or found) the timeline'),
  }),
  'TimelineCreated',
  'The timeline as the command left it',
);

const returns: [Returns<TimelinePage, typeof timelinePageSchema>] = [true];
void returns;
