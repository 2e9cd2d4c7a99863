import { TRACEPARENT } from '@timeline/command-log';
import type { ProblemCode } from '@timeline/problems';
import { z } from 'zod';
import { CONSISTENCY_TOKEN_ONCE_DECIDED } from '../http/consistency-token';
import { LOCATION, MEDIA, READ_PROBLEMS, type ApiOperation, type HeaderParameter, type ResponseSpec } from '../http/api-operation';
import { preconditionsSchema } from '../http/request-headers';
import { commandPendingSchema, commandStatusSchema } from './write-path.schemas';

/** The request headers every write reads (see `writeHeaders`). */
export const WRITE_HEADERS: Record<string, HeaderParameter> = {
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
    description: 'The timeline version (the ETag of a timeline or of an earlier write) the write expects; another version is a 409 `version-conflict`.',
  },
  Traceparent: {
    name: 'traceparent',
    schema: z.string().regex(TRACEPARENT),
    description: 'W3C trace context. Carried with the command into the log and onto the published changes; a new trace is started without it.',
  },
};

/** What any write can answer with besides the rejections of its own command. */
export const WRITE_PROBLEMS: ProblemCode[] = [
  'invalid-request',
  'payload-too-large',
  'unsupported-media-type',
  'version-conflict',
  'idempotency-key-reused',
  'malformed-command',
  'unprocessable-command',
  'internal',
  'log-unavailable',
  'overloaded',
  'rate-limited',
  'database-unavailable',
];

/** The 202 of a write not decided within the wait bound. */
export const PENDING_RESPONSE: ResponseSpec = {
  description:
    'The command is in the log but was not decided within the wait bound. It will be decided exactly once: follow `Location` (GET /v1/commands/{commandId}), or retry with the same Idempotency-Key.',
  content: { [MEDIA.json]: commandPendingSchema },
  headers: { Location: LOCATION },
};

export const COMMAND_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/commands/{commandId}',
    operationId: 'getCommandStatus',
    access: 'timelines:read',
    tag: 'Commands',
    summary: 'Get the decision on a command',
    description: 'Accepted or rejected once the command is decided; `pending` before that.',
    responses: {
      200: {
        description: 'The decision; once decided with the `Consistency-Token` of the command, to read what it did',
        content: { [MEDIA.json]: commandStatusSchema },
        headers: { ConsistencyTokenOnceDecided: CONSISTENCY_TOKEN_ONCE_DECIDED },
      },
    },
    problems: READ_PROBLEMS,
  },
];
