import { compareDays, EARLIEST_YEAR, FACTUALITIES, languageSchema, parsePartialDate, storableString } from '@timeline/domain';
import type { EventFilter } from '@timeline/database';
import { z } from 'zod';
import { Problem } from '@timeline/problems';

/** A query parameter that may be given once or repeated (`actor=jp&actor=nato`). */
const repeatable = <T extends z.ZodType<string>>(item: T) =>
  z.union([item, z.array(item)]).transform((value) => (Array.isArray(value) ? value : [value]) as z.infer<T>[]);

const partialDate = z.string().refine((text) => parsePartialDate(text) !== undefined, {
  message: 'must be a date: YYYY, YYYY-MM or YYYY-MM-DD',
});

const instant = z
  .string()
  .refine((text) => isInstant(text), {
    message: 'must be an ISO 8601 instant from year 0001 to 9999, such as 2023-07-11T12:00:00Z (or a date, meaning its start in UTC)',
  })
  .transform((text) => new Date(text).toISOString());

/** An ISO 8601 date or date-time that PostgreSQL can compare: years 0001 to 9999 once in UTC. */
export function isInstant(text: string): boolean {
  if (!z.iso.datetime({ offset: true }).safeParse(text).success && !z.iso.date().safeParse(text).success) return false;
  const year = new Date(text).getUTCFullYear();
  return year >= EARLIEST_YEAR && year <= 9999;
}

const slug = z.string().regex(/^[a-z0-9]+(?:[-.:#][a-z0-9]+)*$/, 'must be a lowercase identifier');

export const eventSearchParamsSchema = z
  .strictObject({
    from: partialDate.optional(),
    to: partialDate.optional(),
    match: z.enum(['overlaps', 'within']).default('overlaps'),
    validAt: partialDate.optional(),
    knownAt: instant.optional(),
    actor: repeatable(slug).optional(),
    role: storableString().min(1).max(100).optional(),
    place: repeatable(storableString().min(1).max(200)).optional(),
    topic: repeatable(slug).optional(),
    kind: repeatable(slug).optional(),
    factuality: repeatable(z.enum(FACTUALITIES)).optional(),
    includeRetracted: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .default(false),
    q: storableString().trim().min(1).max(200).optional(),
    order: z.enum(['asc', 'desc']).default('asc'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: storableString().min(1).max(1000).optional(),
    format: z.enum(['json', 'timelinejs']).default('json'),
    lang: languageSchema.optional(),
  })
  .superRefine((params, context) => {
    if (params.validAt && (params.from || params.to)) {
      context.addIssue({ code: 'custom', path: ['validAt'], message: 'cannot be combined with from or to' });
    }
    if (params.from && params.to && compareDays(parsePartialDate(params.to)!.upper, parsePartialDate(params.from)!.lower) <= 0) {
      context.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    }
  });

export type EventSearchParams = z.infer<typeof eventSearchParamsSchema>;

/** The filter the parameters describe; `knownAt` is filled in by the caller (asked for, pinned, or now). */
export function filterOf(params: EventSearchParams, timelineId: string | undefined): Omit<EventFilter, 'knownAt'> {
  return {
    timelineId,
    window: validWindow(params),
    actors: params.actor,
    role: params.role,
    places: params.place,
    topics: params.topic,
    kinds: params.kind,
    factualities: params.factuality,
    includeRetracted: params.includeRetracted,
    text: params.q,
  };
}

/** `[lower(from), upper(to))`: a partial `to` includes its whole month or year. */
function validWindow(params: EventSearchParams): EventFilter['window'] {
  if (params.validAt) {
    const day = parsePartialDate(params.validAt)!;
    return { lower: day.lower, upper: day.upper, match: 'overlaps' };
  }
  if (!params.from && !params.to) return undefined;
  return {
    lower: params.from ? parsePartialDate(params.from)!.lower : '0001-01-01',
    upper: params.to ? parsePartialDate(params.to)!.upper : '10000-01-01',
    match: params.match,
  };
}

export const invalidCursor = (message: string) => Problem.invalid([{ field: 'query.cursor', message }]);
