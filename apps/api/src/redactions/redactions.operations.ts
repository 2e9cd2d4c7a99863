import { WRITE_HEADERS, WRITE_PROBLEMS } from '../write-path/write-path.operations';
import { CONSISTENCY_TOKEN_ANSWER } from '../http/consistency-token';
import { LOCATION, MEDIA, READ_PROBLEMS, type ApiOperation } from '../http/api-operation';
import { redactBodySchema, redactionSchema } from './redactions.schemas';

export const REDACTION_OPERATIONS: ApiOperation[] = [
  {
    method: 'post',
    path: '/v1/redactions',
    operationId: 'redact',
    tag: 'Operations',
    access: 'ops',
    summary: 'Redact an actor id or a source URL',
    description:
      'Removes the actor (with its role) or the source from every revision of every event that carries it: current state, history, ' +
      "search, exports and the change stream's catch-up; later commands that carry it are stored without it, and a rebuild does the same. " +
      'Each affected timeline gets a `RedactionApplied` change. The command log and changes already published keep the original ' +
      '(docs/redaction.md). Appended to every partition of the command log: `201` once every partition applied it.',
    headers: { IdempotencyKey: WRITE_HEADERS.IdempotencyKey, Traceparent: WRITE_HEADERS.Traceparent },
    body: { schema: redactBodySchema, description: 'Exactly one of `actorId` and `sourceUrl`', example: { actorId: 'fumio-kishida' } },
    responses: {
      201: {
        description: 'Every partition applied the redaction',
        content: { [MEDIA.json]: redactionSchema },
        headers: { Location: LOCATION, ConsistencyToken: CONSISTENCY_TOKEN_ANSWER },
      },
      202: {
        description: 'Appended, not applied by every partition within the wait bound: follow `Location`',
        content: { [MEDIA.json]: redactionSchema },
        headers: { Location: LOCATION },
      },
    },
    problems: WRITE_PROBLEMS.filter((problem) => problem !== 'version-conflict' && problem !== 'malformed-command' && problem !== 'unprocessable-command'),
  },
  {
    method: 'get',
    path: '/v1/redactions/{redactionId}',
    operationId: 'getRedaction',
    tag: 'Operations',
    access: 'ops',
    summary: 'Get how far a redaction is applied',
    description: '`applied` once every partition of the command log has applied it, `pending` before (and for an id never issued).',
    responses: { 200: { description: 'The redaction', content: { [MEDIA.json]: redactionSchema } } },
    problems: READ_PROBLEMS,
  },
];
