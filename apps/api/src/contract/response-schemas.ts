import type { HistogramBucket } from '@timeline/database';
import { CHANGE_TYPES, languageSchema, timelineDataSchema, timelineIdSchema, type AsJson, type EventState } from '@timeline/domain';
import { eventFieldsSchema, eventStateSchema } from '@timeline/change-events';
import { z } from 'zod';
import type { CommandStatus } from '../commands/command-status';
import type { EventSearchPage } from '../event-search/event-search.queries';
import type { LocalizedEvent } from '../event-search/localization';
import type { TimelineJsDocument } from '../event-search/timelinejs';
import { PROBLEM_TITLES, type ProblemCode } from '@timeline/problems';
import type { TimelinePage } from '../timelines/timeline.queries';
import type { OpsStatus } from '../ops/ops-status';

/**
 * The bodies the api answers with, as zod schemas: the one place the OpenAPI
 * document takes them from. The type checks at the bottom tie each schema to
 * the TypeScript type the code returns, so the two cannot drift apart silently;
 * the contract test checks real answers against the document.
 */

const instant = z.iso.datetime({ offset: true });
const day = z.iso.date();
const version = z.number().int().nonnegative().describe("The timeline's version: the number of accepted changes");
const revision = z.number().int().positive().describe("The event's revision: 1 when recorded, one more per revision or retraction");

/** Named schemas: each becomes `components.schemas.<id>`, and a `$ref` wherever another schema holds it. */
export const responseSchemas = z.registry<{ id: string; description: string }>();
const named = <S extends z.ZodType>(schema: S, id: string, description: string): S => {
  responseSchemas.add(schema, { id, description });
  return schema;
};

export const eventSchema = named(eventStateSchema, 'Event', 'The current state of a historical event');

export const localizedEventSchema = named(
  eventStateSchema.extend({
    displayLanguage: languageSchema.describe('The language title and summary are given in'),
    original: z
      .strictObject({ language: languageSchema, title: z.string(), summary: z.string() })
      .optional()
      .describe('Title and summary in the event\'s own language, when a translation is shown instead'),
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

export const timelineSummarySchema = named(
  z.strictObject({
    timelineId: timelineIdSchema,
    title: z.string(),
    description: z.string(),
    defaultLanguage: languageSchema,
    version,
    eventCount: z.number().int().nonnegative(),
    validTime: z
      .strictObject({ earliest: day, latest: day })
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

export const histogramSchema = named(
  z.strictObject({
    timelineId: timelineIdSchema,
    by: z.enum(['year', 'month']),
    knownAt: instant,
    buckets: z.array(
      z.strictObject({
        period: z.string().regex(/^\d{4}(-\d{2})?$/).describe('`YYYY` or `YYYY-MM`'),
        count: z.number().int().positive(),
      }),
    ),
  }),
  'Histogram',
  'Events per year or month of their valid-time start; periods without events are left out',
);

export const revisionsSchema = named(
  z.strictObject({
    eventId: z.uuid(),
    revisions: z.array(
      z.strictObject({
        revision,
        changeType: z.enum(CHANGE_TYPES.filter((type) => type !== 'TimelineCreated') as ['EventRecorded', 'EventRevised', 'EventRetracted']),
        commandId: z.uuid(),
        reason: z.string().nullable().describe('Why: given with every revision and retraction'),
        changed: eventFieldsSchema.describe('The fields this revision changed, with their new values'),
        previous: eventFieldsSchema.describe('The same fields with the values they had before'),
        knownFrom: instant.describe('Known time: from when the service knew this revision'),
        knownTo: instant.nullable().describe('Until when; null for the current revision'),
        state: eventStateSchema,
      }),
    ),
  }),
  'EventRevisions',
  'Every revision of an event, oldest first: what changed, and why',
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

export const eventAnswerSchema = named(
  z.strictObject({
    event: eventStateSchema,
    revision,
    version,
    commandId: z.uuid(),
  }),
  'EventAnswer',
  'The event as this command left it',
);

export const commandPendingSchema = named(
  z.strictObject({
    commandId: z.uuid(),
    status: z.literal('pending'),
    location: z.string().describe('Where to ask for the decision: GET /v1/commands/{commandId}'),
  }),
  'CommandPending',
  'The command is in the log but was not decided within the wait bound; it will be, exactly once',
);

export const commandStatusSchema = named(
  z.strictObject({
    commandId: z.uuid(),
    status: z.enum(['pending', 'accepted', 'rejected']),
    commandType: z.string().optional(),
    timelineId: timelineIdSchema.nullable().optional(),
    eventId: z.uuid().nullable().optional(),
    reason: z.string().nullable().optional().describe('Why a command was rejected, e.g. `version_conflict`'),
    detail: z.string().nullable().optional(),
    version: z.number().int().nonnegative().nullable().optional(),
    revision: z.number().int().positive().nullable().optional(),
    knownAt: instant.optional().describe('When the command was decided'),
  }),
  'CommandStatus',
  'The decision on a command; `pending` while there is none (the api cannot tell "not yet" from "never sent")',
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

const healthCheck = z.looseObject({ status: z.enum(['up', 'down']) });
export const healthSchema = named(
  z.strictObject({
    status: z.enum(['ok', 'error', 'shutting_down']),
    info: z.record(z.string(), healthCheck).optional(),
    error: z.record(z.string(), healthCheck).optional(),
    details: z.record(z.string(), healthCheck).optional(),
  }),
  'Health',
  'Terminus health check: each dependency `up` or `down`',
);

const seconds = z.number().nonnegative();
const count = z.number().int().nonnegative();
export const opsStatusSchema = named(
  z.strictObject({
    generatedAt: instant,
    projection: z.strictObject({
      topic: z.string().describe('The command topic the projector reads'),
      partitions: z
        .array(
          z.strictObject({
            partition: count,
            endOffset: count.describe('The offset after the last record of the partition in Kafka'),
            storedOffset: count.describe('The next offset to decide, stored with the read models'),
            records: count.describe('Projection lag in records: endOffset − storedOffset'),
            seconds: seconds
              .nullable()
              .describe('Projection lag in seconds: now − Kafka time of the last decided record while records wait, 0 when none does; null while none was decided yet'),
          }),
        )
        .nullable()
        .describe('Null when the lag could not be read'),
      error: z.string().nullable().describe('Why the lag could not be read'),
      failing: z
        .array(
          z.strictObject({
            partition: count,
            failureClass: z
              .string()
              .describe('unprocessable (a record was refused and is being narrowed down), connection, serialization, timeout, shutdown, fenced, log-behind, database or unknown'),
            error: z.string().describe('The last error'),
            since: instant.describe('First failure in a row'),
            lastFailedAt: instant,
            attempts: count.describe('Failed transactions in a row'),
          }),
        )
        .describe('Partitions whose projector transactions fail now; empty when every partition moves'),
    }),
    throughput: z.strictObject({
      windowSeconds: count,
      decisions: count.describe('Decisions of commands appended within the window'),
      perSecond: seconds,
    }),
    decisions: z.strictObject({
      windowSeconds: count,
      accepted: count,
      rejected: count,
      rejectedByReason: z.array(z.strictObject({ reason: z.string(), count })),
    }),
    recentRejections: z.array(
      z.strictObject({
        commandId: z.uuid(),
        commandType: z.string(),
        timelineId: z.string().nullable(),
        eventId: z.uuid().nullable(),
        reason: z.string().nullable(),
        detail: z.string().nullable(),
        knownAt: instant,
        partition: count,
        offset: count,
      }),
    ).describe('The latest rejections, newest first'),
    relay: z.strictObject({
      unsentRecords: count.describe('Accepted changes not yet published to timeline.events'),
      oldestUnsentSeconds: seconds.describe('Age of the oldest of them; 0 when none waits'),
    }),
    stream: z.strictObject({ connectedClients: count.nullable().describe('Clients of /v1/stream on this api instance') }),
    rebuilds: z
      .array(
        z.strictObject({
          schema: z.string().describe('The schema the rebuild replays into'),
          applied: count.describe('Records replayed, summed over the partitions'),
          end: count.nullable().describe('End offsets of the topic summed: what the rebuild catches up to; null when unknown'),
        }),
      )
      .describe('Read-model rebuilds replaying now, or left behind by a failed one (their schema does not advance)'),
    timelines: z.array(z.strictObject({ timelineId: timelineIdSchema, title: z.string(), eventCount: count })),
  }),
  'OpsStatus',
  'What the ops page shows: projection lag per partition, throughput, decisions by outcome, recent rejections, relay and stream',
);

export const PROBLEM_CODES = Object.keys(PROBLEM_TITLES) as ProblemCode[];
export const problemType = (code: ProblemCode) => `/problems/${code}`;

export const invalidFieldSchema = z.strictObject({
  field: z.string().describe('Where the bad value is: `body.validTime`, `query.limit`, `header.if-match`, `path.eventId`'),
  message: z.string(),
});

/** RFC 9457 problem details. Extension members may be added, so the object is open. */
export const problemSchema = named(
  z.looseObject({
    type: z.enum(PROBLEM_CODES.map(problemType) as [string, ...string[]]).describe('The problem type; see the list in the description of this api'),
    title: z.string().describe('A short summary of the problem type'),
    status: z.number().int().min(400).max(599),
    detail: z.string().describe('What went wrong with this request'),
    instance: z.string().describe('The request path'),
    requestId: z.string().describe('The id of the request in our logs; quote it when reporting a problem'),
    errors: z.array(invalidFieldSchema).optional().describe('`invalid-request`: every bad field'),
    commandId: z.uuid().optional().describe('The command a rejection or a reused Idempotency-Key refers to'),
    retryable: z.boolean().optional().describe('`log-unavailable`: the command was not recorded; retrying is safe'),
    checks: z.record(z.string(), z.unknown()).optional().describe('`not-ready`: the state of each dependency'),
  }),
  'Problem',
  'Problem details (RFC 9457) with the request id and, where they apply, the bad fields or the command',
);

// What the code returns must be what the schemas say (checked by `npm run typecheck`). Revisions are
// left out: their record types `changed` loosely; the contract test checks real answers instead.
type Returns<Code, Schema extends z.ZodType> = [Code] extends [z.output<Schema>] ? true : never;
const typeChecks: [
  Returns<AsJson<EventState>, typeof eventSchema>,
  Returns<LocalizedEvent, typeof localizedEventSchema>,
  Returns<Omit<EventSearchPage, 'events'> & { events: LocalizedEvent[] }, typeof eventPageSchema>,
  Returns<TimelinePage, typeof timelinePageSchema>,
  Returns<{ timelineId: string; by: 'year' | 'month'; knownAt: string; buckets: HistogramBucket[] }, typeof histogramSchema>,
  Returns<CommandStatus, typeof commandStatusSchema>,
  Returns<TimelineJsDocument, typeof timelineJsSchema>,
  Returns<OpsStatus, typeof opsStatusSchema>,
] = [true, true, true, true, true, true, true, true];
void typeChecks;
