import type { HistogramBucket } from '@timeline/database';
import { eventStateSchema } from '@timeline/change-events';
import { languageSchema, timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { instant, named, type Returns } from '../http/response-schemas';
import { eventSearchParamsSchema } from './event-search.params';
import type { EventSearchPage } from './event-search.queries';
import type { LocalizedEvent } from './localization';
import type { TimelineJsDocument } from './timelinejs';

export const histogramParamsSchema = z.strictObject({ by: z.enum(['year', 'month']).default('year') });

/** The filters of a search, without paging and presentation: what a histogram counts under. */
const SEARCH_FILTERS = ['from', 'to', 'match', 'validAt', 'knownAt', 'actor', 'role', 'place', 'topic', 'kind', 'factuality', 'includeRetracted', 'q'] as const;
/** The query of a histogram as the document shows it: the controller reads `by`, then the rest as a search. */
export const histogramQuerySchema = z.strictObject({
  ...histogramParamsSchema.shape,
  ...Object.fromEntries(SEARCH_FILTERS.map((name) => [name, eventSearchParamsSchema.shape[name]])),
});

const localizedEventSchema = named(
  eventStateSchema.extend({
    displayLanguage: languageSchema.describe('The language title and summary are given in'),
    original: z
      .strictObject({ language: languageSchema, title: z.string(), summary: z.string() })
      .optional()
      .describe("Title and summary in the event's own language, when a translation is shown instead"),
  }),
  'LocalizedEvent',
  'An event with title and summary in the best language the reader accepts',
);

export const eventPageSchema = named(
  z.strictObject({
    events: z.array(localizedEventSchema),
    knownAt: instant.describe('The known time this page (and every page after it) reflects'),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  }),
  'EventPage',
  'A page of events in valid-time order, or ranked when `q` is given',
);

export const histogramSchema = named(
  z.strictObject({
    timelineId: timelineIdSchema,
    by: z.enum(['year', 'month']),
    knownAt: instant,
    buckets: z.array(
      z.strictObject({
        period: z
          .string()
          .regex(/^\d{4}(-\d{2})?$/)
          .describe('`YYYY` or `YYYY-MM`'),
        count: z.number().int().positive(),
      }),
    ),
  }),
  'Histogram',
  'Events per year or month of their valid-time start; periods without events are left out',
);

const timelineJsDate = z.strictObject({
  year: z.number().int(),
  month: z.number().int().min(1).max(12).optional(),
  day: z.number().int().min(1).max(31).optional(),
});
const timelineJsText = z.strictObject({ headline: z.string(), text: z.string() });

export const timelineJsSchema = named(
  z.strictObject({
    title: z.strictObject({ text: timelineJsText }).optional(),
    events: z.array(
      z.strictObject({
        unique_id: z.uuid(),
        start_date: timelineJsDate,
        end_date: timelineJsDate.optional(),
        display_date: z.string(),
        text: timelineJsText,
        group: z.string(),
      }),
    ),
  }),
  'TimelineJs',
  'Knight Lab TimelineJS 3 JSON (https://timeline.knightlab.com/docs/json-format.html); partial dates keep only the fields they have',
);

const returns: [
  Returns<LocalizedEvent, typeof localizedEventSchema>,
  Returns<Omit<EventSearchPage, 'events'> & { events: LocalizedEvent[] }, typeof eventPageSchema>,
  Returns<{ timelineId: string; by: 'year' | 'month'; knownAt: string; buckets: HistogramBucket[] }, typeof histogramSchema>,
  Returns<TimelineJsDocument, typeof timelineJsSchema>,
] = [true, true, true, true];
void returns;
