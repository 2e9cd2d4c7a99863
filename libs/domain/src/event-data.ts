import { z } from 'zod';
import { storableString, isStorableText, STORABLE_TEXT_MESSAGE } from './storable-text';
import { ValidTime } from './valid-time';

/** Lowercase slug: `japan-nato`. Timeline ids are the Kafka key, so keep them short. */
export const timelineIdSchema = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a lowercase slug (a-z, 0-9 and single hyphens)')
  .max(100);

export const languageSchema = z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code such as "it" or "en"');

const VALID_TIME_MAX_LENGTH = 50;

/** Valid time as JSON carries it: its text. */
export const validTimeTextSchema = z.string().max(VALID_TIME_MAX_LENGTH);

const NOT_A_VALID_TIME = 'must be a date (YYYY, YYYY-MM or YYYY-MM-DD, year 0001 to 9999) or a range of two such dates separated by "/", start before end';

/** Valid time as a command gives it: the text, parsed into the value the decider and the projection use. */
export const validTimeSchema = validTimeTextSchema
  // A transform does not run after a failed check: a text too long is told it is no valid time here.
  .refine((text) => text.length <= VALID_TIME_MAX_LENGTH, NOT_A_VALID_TIME)
  .transform((text, context) => {
    const validTime = ValidTime.parse(text);
    if (validTime) return validTime;
    context.addIssue({ code: 'custom', message: NOT_A_VALID_TIME });
    return z.NEVER;
  });

export const FACTUALITIES = ['confirmed', 'reported', 'expected', 'disputed'] as const;
export const RELATION_TYPES = ['partOf', 'supersedes', 'relatedTo'] as const;

const text = (max: number) => storableString().trim().min(1).max(max);
/** Free text that may be empty, such as a summary. */
const longText = (max: number) => storableString().max(max);

export const actorSchema = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9]+(?:[-.:][a-z0-9]+)*$/, 'must be a lowercase identifier such as "jp" or "fumio-kishida"')
    .max(100),
  name: text(200),
  role: text(100),
});

export const placeSchema = z.strictObject({
  name: text(200),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "LT"')
    .optional(),
});

export const sourceSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .max(2000)
    .refine(isStorableText, STORABLE_TEXT_MESSAGE),
  publisher: text(200),
  language: languageSchema,
  publishedAt: z.iso
    .date()
    .or(z.iso.datetime({ offset: true }))
    .optional(),
});

export const relationSchema = z.strictObject({
  type: z.enum(RELATION_TYPES),
  eventId: z.uuid(),
});

export const translationSchema = z.strictObject({
  title: text(500),
  summary: longText(10_000).optional(),
});

/** Everything a caller says about a historical event. */
export const eventDataSchema = z.strictObject({
  kind: z
    .string()
    .regex(/^[a-z]+(?:[._-][a-z]+)*$/, 'must be a lowercase dotted kind such as "summit.attended"')
    .max(100),
  title: text(500),
  summary: longText(10_000).default(''),
  language: languageSchema,
  validTime: validTimeSchema,
  actors: z.array(actorSchema).max(100).default([]),
  places: z.array(placeSchema).max(100).default([]),
  topics: z
    .array(z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a lowercase slug'))
    .max(100)
    .default([]),
  sources: z.array(sourceSchema).max(100).default([]),
  factuality: z.enum(FACTUALITIES),
  relations: z.array(relationSchema).max(100).default([]),
  /** Title and summary in other languages, keyed by ISO 639-1 code. */
  translations: z.record(languageSchema, translationSchema).default({}),
});

/** A revision names only the fields it changes; absent fields stay as they are. */
export const eventChangesSchema = z
  .strictObject({
    kind: eventDataSchema.shape.kind,
    title: eventDataSchema.shape.title,
    summary: longText(10_000),
    language: languageSchema,
    validTime: validTimeSchema,
    actors: z.array(actorSchema).max(100),
    places: z.array(placeSchema).max(100),
    topics: eventDataSchema.shape.topics.unwrap(),
    sources: z.array(sourceSchema).max(100),
    factuality: z.enum(FACTUALITIES),
    relations: z.array(relationSchema).max(100),
    translations: z.record(languageSchema, translationSchema),
  })
  .partial()
  .refine((changes) => Object.keys(changes).length > 0, { message: 'must change at least one field' });

export const timelineDataSchema = z.strictObject({
  title: text(500),
  description: longText(10_000).default(''),
  defaultLanguage: languageSchema,
});

export type EventData = z.infer<typeof eventDataSchema>;
export type EventChanges = z.infer<typeof eventChangesSchema>;
export type TimelineData = z.infer<typeof timelineDataSchema>;
export type Factuality = (typeof FACTUALITIES)[number];
export const EVENT_FIELDS = Object.keys(eventDataSchema.shape) as (keyof EventData)[];
