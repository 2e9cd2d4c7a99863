import { eventDataSchema, languageSchema, timelineDataSchema, timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { eventAnswerSchema } from '../write-path/write-path.schemas';
import { problemSchema } from '../contract/problem-schema';
import { instant, named, version, type Returns } from '../http/response-schemas';
import type { TimelinePage } from './timeline.queries';

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});
export const recordEventBodySchema = eventDataSchema.extend({ eventId: z.uuid().optional() });
export type RecordEventBody = z.infer<typeof recordEventBodySchema>;
export const recordEventBatchBodySchema = z.strictObject({
  events: z
    .array(recordEventBodySchema)
    .min(1)
    .describe('The events, each as the body of `POST /v1/timelines/{timelineId}/events`, appended in this order; at most `BATCH_MAX_EVENTS` (100 by default)'),
});
export type RecordEventBatchBody = z.infer<typeof recordEventBatchBodySchema>;

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

export const eventBatchAnswerSchema = named(
  z.strictObject({
    results: z
      .array(
        z.union([
          eventAnswerSchema.extend({ status: z.literal(201) }),
          z.strictObject({
            status: z.literal(202),
            commandId: z.uuid(),
            location: z.string().describe('Where to ask for the decision: GET /v1/commands/{commandId}'),
          }),
          z.strictObject({
            status: z.number().int().min(400).max(499),
            problem: problemSchema.partial({ instance: true, requestId: true }).describe('Why this event was not recorded'),
          }),
        ]),
      )
      .describe('One result per event, in the order of the request'),
  }),
  'EventBatchAnswer',
  'Each event of a batch as it was decided: 201 recorded, 202 not decided within the wait bound, or the problem of its rejection',
);

const returns: [Returns<TimelinePage, typeof timelinePageSchema>] = [true];
void returns;
