import type { z } from 'zod';

/** Problem types of the API (RFC 9457). Each becomes `type: /problems/<code>`. */
export const PROBLEM_TITLES = {
  'invalid-request': 'The request is not valid',
  'payload-too-large': 'The request body is too large',
  'unsupported-media-type': 'The request body must be JSON',
  'not-found': 'No such resource',
  'timeline-not-found': 'No such timeline',
  'event-not-found': 'No such event',
  'timeline-exists': 'The timeline exists with other content',
  'event-exists': 'An event with this id exists',
  'version-conflict': 'The timeline is not at the expected version',
  'revision-conflict': 'The event is not at the expected revision',
  'event-retracted': 'The event was retracted',
  'idempotency-key-reused': 'The Idempotency-Key was used for another request',
  'malformed-command': 'The command could not be read',
  'unprocessable-command': 'The database refused what the command would write',
  'log-unavailable': 'The command log cannot take writes now',
  'database-unavailable': 'The database cannot be reached now',
  'not-ready': 'A dependency of the service is not ready',
  'internal': 'Internal error',
} as const;
export type ProblemCode = keyof typeof PROBLEM_TITLES;

export interface InvalidField {
  /** Where the bad value is: `body.validTime`, `query.limit`, `header.if-match`, `path.eventId`. */
  field: string;
  message: string;
}

/** An error a caller should see, with its problem type and status; anything else becomes a 500. */
export class Problem extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly status: number,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** Headers the answer carries besides the document, such as `retry-after`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  static invalid(errors: InvalidField[]): Problem {
    const detail = errors.map((error) => `${error.field}: ${error.message}`).join('; ');
    return new Problem('invalid-request', 400, detail, { errors });
  }
}

/** Validates a part of a request; a failure is a 400 that names every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, where: 'path' | 'body' | 'query' | 'header'): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw Problem.invalid(
    parsed.error.issues.flatMap((issue): InvalidField[] => {
      const field = [where, ...issue.path.map(String)].join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({ field: `${field}.${key}`, message: 'is not a known field' }));
      }
      return [{ field, message: issue.message }];
    }),
  );
}
