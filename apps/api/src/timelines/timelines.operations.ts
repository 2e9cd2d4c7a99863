import { timelineDataSchema } from '@timeline/domain';
import { PENDING_RESPONSE, WRITE_HEADERS, WRITE_PROBLEMS } from '../write-path/write-path.operations';
import { eventAnswerSchema } from '../write-path/write-path.schemas';
import { CONSISTENCY_TOKEN_ANSWER, CONSISTENCY_TOKEN_ONCE_DECIDED, CONSISTENCY_TOKEN_PARAMETER } from '../http/consistency-token';
import { ETAG, LOCATION, MEDIA, PAGE_PARAMETER_DESCRIPTIONS, READ_PROBLEMS, type ApiOperation } from '../http/api-operation';
import {
  eventBatchAnswerSchema,
  listQuerySchema,
  recordEventBatchBodySchema,
  recordEventBodySchema,
  timelineAnswerSchema,
  timelinePageSchema,
  timelineSummarySchema,
} from './timelines.schemas';

export const TIMELINE_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/timelines',
    operationId: 'listTimelines',
    access: 'timelines:read',
    tag: 'Timelines',
    summary: 'List timelines',
    description: 'Every timeline in id order, with its event count and the valid-time bounds of its current events.',
    query: { schema: listQuerySchema, descriptions: PAGE_PARAMETER_DESCRIPTIONS },
    headers: { ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'A page of timelines', content: { [MEDIA.json]: timelinePageSchema } } },
    problems: [...READ_PROBLEMS, 'invalid-consistency-token'],
  },
  {
    method: 'put',
    path: '/v1/timelines/{timelineId}',
    operationId: 'createTimeline',
    access: 'timelines:write',
    tag: 'Timelines',
    summary: 'Create a timeline',
    description:
      'Creates the timeline under the id of the path. Repeating the same creation is answered 200 with the timeline as it is; other content under an existing id is a 409.',
    headers: WRITE_HEADERS,
    body: {
      schema: timelineDataSchema,
      description: 'The timeline',
      example: { title: 'Japan and NATO', description: 'Partnership milestones', defaultLanguage: 'en' },
    },
    responses: {
      200: {
        description: 'The timeline existed with this content: nothing changed',
        content: { [MEDIA.json]: timelineAnswerSchema },
        headers: { ETag: ETAG, Location: LOCATION, ConsistencyToken: CONSISTENCY_TOKEN_ANSWER },
      },
      201: {
        description: 'The timeline was created',
        content: { [MEDIA.json]: timelineAnswerSchema },
        headers: { ETag: ETAG, Location: LOCATION, ConsistencyToken: CONSISTENCY_TOKEN_ANSWER },
      },
      202: PENDING_RESPONSE,
    },
    problems: [...WRITE_PROBLEMS, 'timeline-exists'],
  },
  {
    method: 'get',
    path: '/v1/timelines/{timelineId}',
    operationId: 'getTimeline',
    access: 'timelines:read',
    tag: 'Timelines',
    summary: 'Get a timeline',
    description: 'The timeline with its event count and valid-time bounds; the ETag is its version, for `If-Match` on writes.',
    headers: { ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'The timeline', content: { [MEDIA.json]: timelineSummarySchema }, headers: { ETag: ETAG } } },
    problems: [...READ_PROBLEMS, 'timeline-not-found', 'invalid-consistency-token'],
  },
  {
    method: 'post',
    path: '/v1/timelines/{timelineId}/events',
    operationId: 'recordEvent',
    access: 'timelines:write',
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
      201: {
        description: 'The event was recorded',
        content: { [MEDIA.json]: eventAnswerSchema },
        headers: { ETag: ETAG, ConsistencyToken: CONSISTENCY_TOKEN_ANSWER },
      },
      202: PENDING_RESPONSE,
    },
    problems: [...WRITE_PROBLEMS, 'timeline-not-found', 'event-exists'],
  },
  {
    method: 'post',
    path: '/v1/timelines/{timelineId}/events:batch',
    operationId: 'recordEventBatch',
    access: 'timelines:write',
    tag: 'Events',
    summary: 'Record several events',
    description:
      'Records up to `BATCH_MAX_EVENTS` events (100 by default) on the timeline: each is its own command, all are appended to the log together ' +
      '(all or none) and decided in request order. The answer is 200 with one result per event: `201` recorded, `202` not decided within the ' +
      'wait bound (follow `location`), or the problem of its rejection (e.g. `event-exists`). A problem of the whole request (an invalid event, ' +
      'too many events, the log unavailable, overloaded) records nothing. `Idempotency-Key` names the batch: a retry with the same key and body ' +
      'gets the same results, each event decided once. `If-Match` is not supported on batches (a 400): an event rejected for another reason would ' +
      'leave the version as it was, and the events after it would pass a check meant for the whole batch.',
    headers: { IdempotencyKey: WRITE_HEADERS.IdempotencyKey, Traceparent: WRITE_HEADERS.Traceparent },
    body: {
      schema: recordEventBatchBodySchema,
      description: 'The events',
      example: {
        events: [
          {
            kind: 'summit.attended',
            title: 'Japan attends the NATO Madrid summit',
            language: 'en',
            validTime: '2022-06-28/2022-06-30',
            factuality: 'confirmed',
          },
          {
            kind: 'programme.adopted',
            title: 'NATO and Japan adopt an Individually Tailored Partnership Programme',
            language: 'en',
            validTime: '2023-07-12',
            factuality: 'confirmed',
          },
        ],
      },
    },
    responses: {
      200: {
        description: 'Each event as it was decided, in request order; `Consistency-Token` once any of them is decided',
        content: { [MEDIA.json]: eventBatchAnswerSchema },
        headers: { ConsistencyTokenOnceDecided: CONSISTENCY_TOKEN_ONCE_DECIDED },
      },
    },
    // Rejections of single events (`version-conflict`, `event-exists`…) are results inside the 200.
    problems: WRITE_PROBLEMS.filter((code) => !['version-conflict', 'malformed-command', 'unprocessable-command'].includes(code)),
  },
];
