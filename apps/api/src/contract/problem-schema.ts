import { PROBLEM_TYPES, type ProblemCode } from '@timeline/problems';
import { z } from 'zod';
import { named } from '../http/response-schemas';

export const PROBLEM_CODES = Object.keys(PROBLEM_TYPES) as ProblemCode[];
export const problemType = (code: ProblemCode) => `/problems/${code}`;

const invalidFieldSchema = z.strictObject({
  field: z.string().describe('Where the bad value is: `body.validTime`, `query.limit`, `header.if-match`, `path.eventId`'),
  message: z.string(),
});

/**
 * RFC 9457 problem details. Extension members may be added, so the object is
 * open. Every problem response refers to it as `Problem`.
 */
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
    retryable: z.boolean().optional().describe('`log-unavailable`, `overloaded`: retrying is safe (see `recorded`)'),
    checks: z.record(z.string(), z.unknown()).optional().describe('`not-ready`: the state of each dependency'),
  }),
  'Problem',
  'Problem details (RFC 9457) with the request id and, where they apply, the bad fields or the command',
);
