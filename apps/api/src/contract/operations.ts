import { timelineDataSchema } from '@timeline/domain';
import { CHANGE_EVENT_TYPE_LIST } from '@timeline/change-events';
import { z } from 'zod';
import { TRACEPARENT } from '@timeline/command-log';
import { histogramParamsSchema, TIMELINEJS_MEDIA_TYPE } from '../event-search/event-search.controller';
import { eventSearchParamsSchema } from '../event-search/event-search.params';
import { retractBodySchema, reviseBodySchema } from '../events/events.controller';
import type { ProblemCode } from '@timeline/problems';
import type { PathParamName } from '../http/path-params';
import { preconditionsSchema } from '../http/request-headers';
import { headersSchema as streamHeadersSchema, querySchema as streamQuerySchema } from '../stream/stream-request';
import { listQuerySchema, recordEventBodySchema } from '../timelines/timelines.controller';
import { DOCS_ASSET_NAMES } from './docs-page';
import { OPS_ASSET_NAMES } from '../ops/ops-assets';
import {
  commandPendingSchema,
  commandStatusSchema,
  eventAnswerSchema,
  eventPageSchema,
  eventSchema,
  healthSchema,
  histogramSchema,
  opsStatusSchema,
  revisionsSchema,
  timelineAnswerSchema,
  timelineJsSchema,
  timelinePageSchema,
  timelineSummarySchema,
} from './response-schemas';

/**
 * The route table of the OpenAPI document: one entry per operation the api
 * serves. Schemas are the zod schemas the controllers validate with (requests)
 * and those of response-schemas.ts (answers); openapi-document.ts turns them
 * into JSON Schema. The contract test fails when Nest serves a route that is
 * not here, or when an answer does not match its entry.
 */

export const TAGS = [
  { name: 'Timelines', description: 'Create timelines and list them' },
  { name: 'Events', description: 'Record, revise and retract events; read them and their revisions' },
  { name: 'Queries', description: 'Search events by valid time, known time, actor, place, topic and text' },
  { name: 'Commands', description: 'The decision on a command that was answered 202' },
  { name: 'Changes', description: 'Accepted changes, live, as CloudEvents over Server-Sent Events' },
  { name: 'Health', description: 'Liveness and readiness probes, and metrics' },
  { name: 'Contract', description: 'This document, its interactive page, and the published event contract' },
  { name: 'Operations', description: 'The ops page and the status it shows: projection lag, throughput, decisions, relay, stream' },
] as const;
export type TagName = (typeof TAGS)[number]['name'];

export const MEDIA = { json: 'application/json', problem: 'application/problem+json', html: 'text/html' } as const;

/** Request headers the api reads, as OpenAPI header parameters. */
export const HEADER_PARAMETERS = {
  IdempotencyKey: {
    name: 'Idempotency-Key',
    schema: preconditionsSchema.shape['idempotency-key'],
    description:
      'Makes a write safe to retry: a retry with the same key (and the same request) is decided once and gets the first answer. ' +
      'The same key with another request is a 422.',
  },
  IfMatch: {
    name: 'If-Match',
    schema: preconditionsSchema.shape['if-match'],
    description: "The timeline version (the ETag of a timeline or of an earlier write) the write expects; another version is a 409 `version-conflict`.",
  },
  AcceptLanguage: {
    name: 'Accept-Language',
    schema: z.string().max(500),
    description: 'Languages the reader prefers (RFC 9110), e.g. `it-IT, en;q=0.8`. Titles and summaries are given in the best available; `lang` wins over it.',
  },
  Traceparent: {
    name: 'traceparent',
    schema: z.string().regex(TRACEPARENT),
    description: 'W3C trace context. Carried with the command into the log and onto the published changes; a new trace is started without it.',
  },
  LastEventId: {
    name: 'Last-Event-ID',
    schema: streamHeadersSchema.shape['last-event-id'],
    description: 'The stream position to resume after, as a reconnecting EventSource sends it; wins over `after`.',
  },
} satisfies Record<string, { name: string; schema: z.ZodType; description: string }>;
export type HeaderParameter = keyof typeof HEADER_PARAMETERS;

/** Response headers, each with a zod schema of its value. */
export const RESPONSE_HEADERS = {
  ETag: { schema: z.string().regex(/^"\d+"$/), required: true, description: 'The timeline version after this answer, for `If-Match`' },
  Location: { schema: z.string(), required: true, description: 'The resource: the timeline, or the command to ask for its decision' },
  Link: { schema: z.string(), required: false, description: 'The next page of a TimelineJS export (RFC 8288, `rel="next"`), when there is one' },
} satisfies Record<string, { schema: z.ZodType; required: boolean; description: string }>;
export type ResponseHeader = keyof typeof RESPONSE_HEADERS;

export interface ResponseSpec {
  description: string;
  /** Media type → schema; a schema of response-schemas.ts becomes a `$ref`. */
  content?: Record<string, z.ZodType>;
  /** Headers of this answer (those `required` always sent). */
  headers?: ResponseHeader[];
}

export interface ApiOperation {
  method: 'get' | 'put' | 'post';
  /** OpenAPI path template; its `{name}` parameters are those of http/path-params.ts. */
  path: string;
  operationId: string;
  tag: TagName;
  summary: string;
  description: string;
  /** Path parameters other than those of http/path-params.ts. */
  pathParams?: Record<string, { schema: z.ZodType; description: string }>;
  query?: z.ZodObject;
  headers?: HeaderParameter[];
  body?: { schema: z.ZodType; description: string; example?: unknown };
  responses: Record<number, ResponseSpec>;
  /** Problem types this operation can answer with, grouped by status in the document. */
  problems: ProblemCode[];
}

/** The status each problem type is sent with. */
export const PROBLEM_STATUS: Record<ProblemCode, number> = {
  'invalid-request': 400,
  'not-found': 404,
  'timeline-not-found': 404,
  'event-not-found': 404,
  'timeline-exists': 409,
  'event-exists': 409,
  'version-conflict': 409,
  'revision-conflict': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'event-retracted': 422,
  'idempotency-key-reused': 422,
  'malformed-command': 422,
  'unprocessable-command': 422,
  internal: 500,
  'log-unavailable': 503,
  'database-unavailable': 503,
  'not-ready': 503,
};

export const PATH_PARAMETER_DESCRIPTIONS: Record<PathParamName, string> = {
  timelineId: 'The timeline id: a lowercase slug such as `japan-nato`',
  eventId: 'The event id (a UUID)',
  commandId: 'The command id (a UUID), as in the `Location` of a 202',
};

/** Descriptions of query parameters, by name (the same parameter means the same on every route). */
export const QUERY_PARAMETER_DESCRIPTIONS: Record<string, string> = {
  from: 'Start of the valid-time window: a date, `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a partial date starts at its first day.',
  to: 'End of the valid-time window, same forms as `from` and not before it; a partial date takes in its whole period (`to=2022` includes 31 December 2022).',
  match:
    '`overlaps`: events whose valid time overlaps the window (`2023-07` overlaps 10–20 July 2023); `within`: events whose valid time lies wholly inside it, at their own precision.',
  validAt: 'A day (or month, or year): events whose valid time covers it. Not combined with `from`/`to`.',
  knownAt:
    'An instant (ISO 8601, or a date meaning its start in UTC): the answer as the service knew it then: the revision current at that moment, events recorded later left out, events retracted later still shown.',
  actor: 'An actor id; repeat for any of several (`actor=jp&actor=nato`).',
  role: 'With `actor`: only where the actor had this role (e.g. `signatory`).',
  place: 'A place name or an ISO 3166-1 country code; repeatable.',
  topic: 'A topic slug; repeatable.',
  kind: 'An event kind such as `summit.attended`; repeatable.',
  factuality: 'confirmed, reported, expected or disputed; repeatable.',
  includeRetracted: 'Also return retracted events (flagged `retracted: true`).',
  q: 'Full-text search in each event\'s own language (stemmed with PostgreSQL\'s configuration for it); results are ranked by relevance.',
  order: 'Valid-time order (ties by event id); with `q`, order of rank.',
  limit: 'Page size.',
  cursor: '`nextCursor` of the previous page. Keep every other parameter as it was: a cursor of another query is a 400. Pages after the first are answered as known when the first was.',
  format: '`timelinejs`: the Knight Lab TimelineJS JSON of the page (as with `Accept: application/vnd.timelinejs+json`).',
  lang: 'Give titles and summaries in this language (ISO 639-1) where a translation exists; wins over `Accept-Language`.',
  by: 'The period to count per: `year` or `month` of each event\'s valid-time start.',
  after: 'Resume after this stream position (the `id:` of a message); `0` starts at the beginning; without it the stream starts now.',
  timelineId: 'Only changes of this timeline.',
  type: `Only these CloudEvents types, comma-separated: ${CHANGE_EVENT_TYPE_LIST.join(', ')}.`,
};

const READ: ProblemCode[] = ['invalid-request', 'internal', 'database-unavailable'];
const WRITE: ProblemCode[] = [
  'invalid-request',
  'payload-too-large',
  'unsupported-media-type',
  'version-conflict',
  'idempotency-key-reused',
  'malformed-command',
  'unprocessable-command',
  'internal',
  'log-unavailable',
  'database-unavailable',
];
const WRITE_HEADERS: HeaderParameter[] = ['IdempotencyKey', 'IfMatch', 'Traceparent'];

const pending: ResponseSpec = {
  description:
    'The command is in the log but was not decided within the wait bound. It will be decided exactly once: follow `Location` (GET /v1/commands/{commandId}), or retry with the same Idempotency-Key.',
  content: { [MEDIA.json]: commandPendingSchema },
  headers: ['Location'],
};

/** The filters of a search, without paging and presentation: what a histogram counts under. */
const SEARCH_FILTERS = ['from', 'to', 'match', 'validAt', 'knownAt', 'actor', 'role', 'place', 'topic', 'kind', 'factuality', 'includeRetracted', 'q'] as const;
const histogramQuerySchema = z.strictObject({
  ...histogramParamsSchema.shape,
  ...Object.fromEntries(SEARCH_FILTERS.map((name) => [name, eventSearchParamsSchema.shape[name]])),
});

const SEARCH_DESCRIPTION =
  'Filters combine (and); repeatable filters match any of their values. Every filter combines with `knownAt`. ' +
  'Pages are keyset-based: following `nextCursor` neither skips nor repeats an event while writes arrive.';

export const API_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/timelines',
    operationId: 'listTimelines',
    tag: 'Timelines',
    summary: 'List timelines',
    description: 'Every timeline in id order, with its event count and the valid-time bounds of its current events.',
    query: listQuerySchema,
    responses: { 200: { description: 'A page of timelines', content: { [MEDIA.json]: timelinePageSchema } } },
    problems: READ,
  },
  {
    method: 'put',
    path: '/v1/timelines/{timelineId}',
    operationId: 'createTimeline',
    tag: 'Timelines',
    summary: 'Create a timeline',
    description: 'Creates the timeline under the id of the path. Repeating the same creation is answered 200 with the timeline as it is; other content under an existing id is a 409.',
    headers: WRITE_HEADERS,
    body: {
      schema: timelineDataSchema,
      description: 'The timeline',
      example: { title: 'Japan and NATO', description: 'Partnership milestones', defaultLanguage: 'en' },
    },
    responses: {
      200: { description: 'The timeline existed with this content: nothing changed', content: { [MEDIA.json]: timelineAnswerSchema }, headers: ['ETag', 'Location'] },
      201: { description: 'The timeline was created', content: { [MEDIA.json]: timelineAnswerSchema }, headers: ['ETag', 'Location'] },
      202: pending,
    },
    problems: [...WRITE, 'timeline-exists'],
  },
  {
    method: 'get',
    path: '/v1/timelines/{timelineId}',
    operationId: 'getTimeline',
    tag: 'Timelines',
    summary: 'Get a timeline',
    description: 'The timeline with its event count and valid-time bounds; the ETag is its version, for `If-Match` on writes.',
    responses: { 200: { description: 'The timeline', content: { [MEDIA.json]: timelineSummarySchema }, headers: ['ETag'] } },
    problems: [...READ, 'timeline-not-found'],
  },
  {
    method: 'post',
    path: '/v1/timelines/{timelineId}/events',
    operationId: 'recordEvent',
    tag: 'Events',
    summary: 'Record an event',
    description:
      'Records a historical event on the timeline. Without `eventId` the event is named after the command, so a retried command records the same event.',
    headers: WRITE_HEADERS,
    body: {
      schema: recordEventBodySchema,
      description: 'The event',
      example: {
        kind: 'programme.adopted',
        title: 'NATO and Japan adopt an Individually Tailored Partnership Programme',
        language: 'en',
        validTime: '2023-07-12',
        factuality: 'confirmed',
        actors: [{ id: 'jp', name: 'Japan', role: 'signatory' }],
        places: [{ name: 'Vilnius', country: 'LT' }],
        topics: ['partnership'],
      },
    },
    responses: {
      201: { description: 'The event was recorded', content: { [MEDIA.json]: eventAnswerSchema }, headers: ['ETag'] },
      202: pending,
    },
    problems: [...WRITE, 'timeline-not-found', 'event-exists'],
  },
  {
    method: 'get',
    path: '/v1/timelines/{timelineId}/events',
    operationId: 'searchTimelineEvents',
    tag: 'Queries',
    summary: "Search a timeline's events",
    description: `The timeline's events, current or as known at \`knownAt\`, filtered, searched and paged. ${SEARCH_DESCRIPTION} With \`Accept: ${TIMELINEJS_MEDIA_TYPE}\` or \`format=timelinejs\` the page is Knight Lab TimelineJS JSON.`,
    query: eventSearchParamsSchema,
    headers: ['AcceptLanguage'],
    responses: {
      200: {
        description: 'A page of events (or its TimelineJS document); `Link` names the next TimelineJS page',
        content: { [MEDIA.json]: eventPageSchema, [TIMELINEJS_MEDIA_TYPE]: timelineJsSchema },
        headers: ['Link'],
      },
    },
    problems: [...READ, 'timeline-not-found'],
  },
  {
    method: 'get',
    path: '/v1/timelines/{timelineId}/histogram',
    operationId: 'timelineHistogram',
    tag: 'Queries',
    summary: 'Count events per year or month',
    description: 'Counts of the events the same filters would return, per year or month of their valid-time start.',
    query: histogramQuerySchema,
    responses: { 200: { description: 'Counts per period', content: { [MEDIA.json]: histogramSchema } } },
    problems: [...READ, 'timeline-not-found'],
  },
  {
    method: 'get',
    path: '/v1/events',
    operationId: 'searchEvents',
    tag: 'Queries',
    summary: 'Search events across timelines',
    description: `Events of every timeline, current or as known at \`knownAt\`, filtered, searched and paged. ${SEARCH_DESCRIPTION}`,
    query: eventSearchParamsSchema,
    headers: ['AcceptLanguage'],
    responses: { 200: { description: 'A page of events', content: { [MEDIA.json]: eventPageSchema } } },
    problems: READ,
  },
  {
    method: 'get',
    path: '/v1/events/{eventId}',
    operationId: 'getEvent',
    tag: 'Events',
    summary: 'Get an event',
    description: 'The current state of the event, retracted or not.',
    responses: { 200: { description: 'The event', content: { [MEDIA.json]: eventSchema } } },
    problems: [...READ, 'event-not-found'],
  },
  {
    method: 'get',
    path: '/v1/events/{eventId}/revisions',
    operationId: 'listEventRevisions',
    tag: 'Events',
    summary: "List an event's revisions",
    description: 'Each revision with the fields it changed (new and previous values), the reason given, and the known-time range it was current in.',
    responses: { 200: { description: 'The revisions, oldest first', content: { [MEDIA.json]: revisionsSchema } } },
    problems: [...READ, 'event-not-found'],
  },
  {
    method: 'post',
    path: '/v1/events/{eventId}/revisions',
    operationId: 'reviseEvent',
    tag: 'Events',
    summary: 'Revise an event',
    description: 'Changes the fields named in `changes`; the others stay as they are. A revision that changes nothing is accepted and records nothing.',
    headers: WRITE_HEADERS,
    body: {
      schema: reviseBodySchema,
      description: 'What changes, and why',
      example: { changes: { factuality: 'confirmed' }, reason: 'Confirmed by the NATO press release', expectedRevision: 1 },
    },
    responses: {
      200: { description: 'The event was revised', content: { [MEDIA.json]: eventAnswerSchema }, headers: ['ETag'] },
      202: pending,
    },
    problems: [...WRITE, 'event-not-found', 'revision-conflict', 'event-retracted'],
  },
  {
    method: 'post',
    path: '/v1/events/{eventId}/retraction',
    operationId: 'retractEvent',
    tag: 'Events',
    summary: 'Retract an event',
    description: 'Marks the event retracted: it leaves current answers but stays in its revisions and in answers as known before.',
    headers: WRITE_HEADERS,
    body: { schema: retractBodySchema, description: 'Why', example: { reason: 'Weak secondary sources only' } },
    responses: {
      200: { description: 'The event was retracted', content: { [MEDIA.json]: eventAnswerSchema }, headers: ['ETag'] },
      202: pending,
    },
    problems: [...WRITE, 'event-not-found', 'revision-conflict', 'event-retracted'],
  },
  {
    method: 'get',
    path: '/v1/commands/{commandId}',
    operationId: 'getCommandStatus',
    tag: 'Commands',
    summary: 'Get the decision on a command',
    description: 'Accepted or rejected once the command is decided; `pending` before that.',
    responses: { 200: { description: 'The decision', content: { [MEDIA.json]: commandStatusSchema } } },
    problems: READ,
  },
  {
    method: 'get',
    path: '/health/live',
    operationId: 'liveness',
    tag: 'Health',
    summary: 'Liveness',
    description: 'The process is up and serving HTTP.',
    responses: { 200: { description: 'Alive', content: { [MEDIA.json]: z.strictObject({ status: z.literal('ok') }) } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/health/ready',
    operationId: 'readiness',
    tag: 'Health',
    summary: 'Readiness',
    description: 'Ready when PostgreSQL answers with every migration applied and Kafka answers.',
    responses: { 200: { description: 'Ready', content: { [MEDIA.json]: healthSchema } } },
    problems: ['not-ready', 'internal'],
  },
  {
    method: 'get',
    path: '/v1/stream',
    operationId: 'streamChanges',
    tag: 'Changes',
    summary: 'Stream accepted changes',
    description:
      'Server-Sent Events: each accepted change is a message with `id:` its stream position and `data:` a structured-mode CloudEvent ' +
      '(the AsyncAPI document at /asyncapi.json describes it). Comment lines are heartbeats; a client that cannot keep up gets ' +
      '`event: overflow` and the stream ends. Bad parameters are a 400 before the stream opens.',
    query: streamQuerySchema,
    headers: ['LastEventId'],
    responses: { 200: { description: 'The event stream (open until the client leaves)', content: { 'text/event-stream': z.string() } } },
    problems: READ,
  },
  {
    method: 'get',
    path: '/asyncapi.json',
    operationId: 'asyncApiDocument',
    tag: 'Contract',
    summary: 'The AsyncAPI document',
    description: 'AsyncAPI 3 document of the Kafka topics (commands, accepted changes) and of the change stream.',
    responses: { 200: { description: 'The document', content: { [MEDIA.json]: z.looseObject({ asyncapi: z.string(), channels: z.record(z.string(), z.unknown()) }) } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/schemas/{file}',
    operationId: 'changeDataSchema',
    tag: 'Contract',
    summary: 'The JSON Schema of a change type',
    description: 'The schema of the `data` of one CloudEvents type: the URL its `dataschema` attribute names.',
    pathParams: { file: { schema: z.enum(CHANGE_EVENT_TYPE_LIST.map((type) => `${type}.json`) as [string, ...string[]]), description: 'The CloudEvents type, then `.json`' } },
    responses: { 200: { description: 'The JSON Schema (draft-07)', content: { 'application/schema+json': z.looseObject({ $schema: z.string(), $id: z.string() }) } } },
    problems: ['not-found', 'internal'],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Health',
    summary: 'Metrics',
    description: 'Prometheus metrics of the api: HTTP requests, command appends and decisions, process and runtime.',
    responses: { 200: { description: 'The Prometheus text exposition format', content: { 'text/plain': z.string() } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Contract',
    summary: 'This OpenAPI document',
    description: 'The OpenAPI 3.1 document of the HTTP api, generated from the schemas the api validates with.',
    responses: {
      200: { description: 'The document', content: { [MEDIA.json]: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) }) } },
    },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'apiDocsPage',
    tag: 'Contract',
    summary: 'Interactive api documentation',
    description: 'Swagger UI on this document, served from the service itself (no CDN).',
    responses: { 200: { description: 'The page', content: { [MEDIA.html]: z.string() } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/docs/assets/{asset}',
    operationId: 'apiDocsAsset',
    tag: 'Contract',
    summary: 'A script or style sheet of the documentation page',
    description: 'Files of the swagger-ui-dist package that the page loads.',
    pathParams: { asset: { schema: z.enum(DOCS_ASSET_NAMES), description: 'The file name' } },
    responses: {
      200: { description: 'The file', content: { 'text/css': z.string(), 'text/javascript': z.string(), 'image/png': z.string() } },
    },
    problems: ['not-found', 'internal'],
  },
  {
    method: 'get',
    path: '/ops/status',
    operationId: 'opsStatus',
    tag: 'Operations',
    summary: 'Operational status',
    description:
      'Projection lag per partition of timeline.commands (records: end offset − stored offset; seconds: now − Kafka time of the last decided record), ' +
      'throughput (decisions per second over the last minute), decisions of the last hour by outcome and rejection reason, the latest rejections, ' +
      'the relay backlog (outbox rows not yet published, age of the oldest), stream clients and the timelines. Read fresh at most every half second.',
    responses: { 200: { description: 'The status', content: { [MEDIA.json]: opsStatusSchema } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/ops',
    operationId: 'opsPage',
    tag: 'Operations',
    summary: 'The ops page',
    description: 'A page for operators that polls `/ops/status`: lag with its trend, throughput, decisions, rejections, relay, stream, and a chosen timeline drawn with vis-timeline.',
    responses: { 200: { description: 'The page', content: { [MEDIA.html]: z.string() } } },
    problems: ['internal'],
  },
  {
    method: 'get',
    path: '/ops/assets/{asset}',
    operationId: 'opsAsset',
    tag: 'Operations',
    summary: 'A script or style sheet of the ops page',
    description: 'The page\'s own script and styles, and vis-timeline\'s standalone build, served from the service itself (no CDN).',
    pathParams: { asset: { schema: z.enum(OPS_ASSET_NAMES), description: 'The file name' } },
    responses: { 200: { description: 'The file', content: { 'text/css': z.string(), 'text/javascript': z.string() } } },
    problems: ['not-found', 'internal'],
  },
];
