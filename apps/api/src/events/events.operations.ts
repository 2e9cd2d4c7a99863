import { PENDING_RESPONSE, WRITE_HEADERS, WRITE_PROBLEMS } from '../write-path/write-path.operations';
import { eventAnswerSchema } from '../write-path/write-path.schemas';
import { CONSISTENCY_TOKEN_ANSWER, CONSISTENCY_TOKEN_PARAMETER } from '../http/consistency-token';
import { ETAG, MEDIA, READ_PROBLEMS, type ApiOperation } from '../http/api-operation';
import { eventSchema, retractBodySchema, reviseBodySchema, revisionsSchema } from './events.schemas';

export const EVENT_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/events/{eventId}',
    operationId: 'getEvent',
    access: 'timelines:read',
    tag: 'Events',
    summary: 'Get an event',
    description: 'The current state of the event, retracted or not.',
    headers: { ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'The event', content: { [MEDIA.json]: eventSchema } } },
    problems: [...READ_PROBLEMS, 'event-not-found', 'invalid-consistency-token'],
  },
  {
    method: 'get',
    path: '/v1/events/{eventId}/revisions',
    operationId: 'listEventRevisions',
    access: 'timelines:read',
    tag: 'Events',
    summary: "List an event's revisions",
    description: 'Each revision with the fields it changed (new and previous values), the reason given, and the known-time range it was current in.',
    headers: { ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'The revisions, oldest first', content: { [MEDIA.json]: revisionsSchema } } },
    problems: [...READ_PROBLEMS, 'event-not-found', 'invalid-consistency-token'],
  },
  {
    method: 'post',
    path: '/v1/events/{eventId}/revisions',
    operationId: 'reviseEvent',
    access: 'timelines:write',
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
      200: {
        description: 'The event was revised',
        content: { [MEDIA.json]: eventAnswerSchema },
        headers: { ETag: ETAG, ConsistencyToken: CONSISTENCY_TOKEN_ANSWER },
      },
      202: PENDING_RESPONSE,
    },
    problems: [...WRITE_PROBLEMS, 'event-not-found', 'revision-conflict', 'event-retracted'],
  },
  {
    method: 'post',
    path: '/v1/events/{eventId}/retraction',
    operationId: 'retractEvent',
    access: 'timelines:write',
    tag: 'Events',
    summary: 'Retract an event',
    description: 'Marks the event retracted: it leaves current answers but stays in its revisions and in answers as known before.',
    headers: WRITE_HEADERS,
    body: { schema: retractBodySchema, description: 'Why', example: { reason: 'Weak secondary sources only' } },
    responses: {
      200: {
        description: 'The event was retracted',
        content: { [MEDIA.json]: eventAnswerSchema },
        headers: { ETag: ETAG, ConsistencyToken: CONSISTENCY_TOKEN_ANSWER },
      },
      202: PENDING_RESPONSE,
    },
    problems: [...WRITE_PROBLEMS, 'event-not-found', 'revision-conflict', 'event-retracted'],
  },
];
