import { CHANGE_EVENT_TYPE_LIST } from '@timeline/change-events';
import { z } from 'zod';
import { READ_PROBLEMS, type ApiOperation } from '../http/api-operation';
import { CONSISTENCY_TOKEN_PARAMETER } from '../http/consistency-token';
import { headersSchema, querySchema } from './stream-request';

export const STREAM_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/stream',
    operationId: 'streamChanges',
    access: 'timelines:read',
    tag: 'Changes',
    summary: 'Stream accepted changes',
    description:
      'Server-Sent Events: each accepted change is a message with `id:` its stream position and `data:` a structured-mode CloudEvent ' +
      '(the AsyncAPI document at /asyncapi.json describes it). Comment lines are heartbeats; a client that cannot keep up gets ' +
      '`event: overflow` and the stream ends; a stream whose token expires gets `event: token-expired` and ends. Bad parameters are a 400 before the stream opens; so are a 429 past the streams one ' +
      'client may hold and a 503 past the streams or catch-ups (resuming from an old position) the process serves at once.',
    query: {
      schema: querySchema,
      descriptions: {
        after: 'Resume after this stream position (the `id:` of a message); `0` starts at the beginning; without it the stream starts now.',
        timelineId: 'Only changes of this timeline.',
        type: `Only these CloudEvents types, comma-separated: ${CHANGE_EVENT_TYPE_LIST.join(', ')}.`,
        consistencyToken:
          "The `Consistency-Token` of the caller's last write, for clients that cannot send headers (EventSource): the catch-up reads a copy that has it. The header wins.",
      },
    },
    headers: {
      LastEventId: {
        name: 'Last-Event-ID',
        schema: headersSchema.shape['last-event-id'],
        description: 'The stream position to resume after, as a reconnecting EventSource sends it; wins over `after`.',
      },
      ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER,
    },
    responses: { 200: { description: 'The event stream (open until the client leaves)', content: { 'text/event-stream': z.string() } } },
    problems: [...READ_PROBLEMS, 'rate-limited', 'overloaded', 'invalid-consistency-token'],
  },
];
