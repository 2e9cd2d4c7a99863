import type { z } from 'zod';

/**
 * Problem types of the API (RFC 9457), each with the status it is sent with:
 * the one table both the answers and the OpenAPI document take it from. Each
 * becomes `type: /problems/<code>`.
 */
export const PROBLEM_TYPES = {
  'invalid-request': { status: 400, title: 'The request is not valid' },
  'invalid-consistency-token': { status: 400, title: 'The Consistency-Token is not one this service gave out' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  unauthorized: { status: 401, title: 'A valid bearer token is needed' },
  forbidden: { status: 403, title: 'The token does not allow this request' },
  'not-found': { status: 404, title: 'No such resource' },
  'timeline-not-found': { status: 404, title: 'No such timeline' },
  'event-not-found': { status: 404, title: 'No such event' },
  'timeline-exists': { status: 409, title: 'The timeline exists with other content' },
  'event-exists': { status: 409, title: 'An event with this id exists' },
  'version-conflict': { status: 409, title: 'The timeline is not at the expected version' },
  'revision-conflict': { status: 409, title: 'The event is not at the expected revision' },
  'event-retracted': { status: 422, title: 'The event was retracted' },
  'idempotency-key-reused': { status: 422, title: 'The Idempotency-Key was used for another request' },
  'malformed-command': { status: 422, title: 'The command could not be read' },
  'unprocessable-command': { status: 422, title: 'The database refused what the command would write' },
  'rate-limited': { status: 429, title: 'Too many requests from this client' },
  'log-unavailable': { status: 503, title: 'The command log cannot take writes now' },
  'database-unavailable': { status: 503, title: 'The database cannot be reached now' },
  overloaded: { status: 503, title: 'The service is over capacity now' },
  'not-ready': { status: 503, title: 'A dependency of the service is not ready' },
  internal: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemCode = keyof typeof PROBLEM_TYPES;

export interface InvalidField {
  /** Where the bad value is: `body.validTime`, `query.limit`, `header.if-match`, `path.eventId`. */
  field: string;
  message: string;
}

/** An error a caller should see, sent with its problem type's status; anything else becomes a 500. */
export class Problem extends Error {
  readonly status: number;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** Headers the answer carries besides the document, such as `retry-after`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.status = PROBLEM_TYPES[code].status;
  }

  static invalid(errors: InvalidField[]): Problem {
    const detail = errors.map((error) => `${error.field}: ${error.message}`).join('; ');
    return new Problem('invalid-request', detail, { errors });
  }

  /**
   * A request the HTTP server refused with a 4xx of its own (431, 414…) before
   * the api saw it: an `invalid-request` that keeps the server's status.
   */
  static refusedByServer(status: number, detail: string, extensions: Record<string, unknown> = {}): Problem {
    return Object.assign(new Problem('invalid-request', detail, extensions), { status });
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
