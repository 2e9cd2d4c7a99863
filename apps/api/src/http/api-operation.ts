import type { Scope } from '@timeline/auth';
import type { ProblemCode } from '@timeline/problems';
import { z } from 'zod';

/**
 * How a feature describes the operations it serves, for the OpenAPI document
 * that contract/openapi-document.ts assembles. Request schemas are the zod
 * schemas the controllers validate with; response schemas are registered in
 * http/response-schemas.ts. The contract test fails when Nest serves a route
 * that no feature describes, or when an answer does not match its entry.
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

/** A request header the api reads; it becomes `components.parameters.<key>` under the key an operation names it by. */
export interface HeaderParameter {
  name: string;
  schema: z.ZodType;
  description: string;
}

/**
 * A response header, with a zod schema of its value; it becomes `components.headers.<key>`. The key is its name in
 * the answers unless `name` says otherwise (one header, required on some answers and not on others).
 */
export interface ResponseHeader {
  name?: string;
  schema: z.ZodType;
  /** Always sent with the answers that name it. */
  required: boolean;
  description: string;
}

export const ETAG: ResponseHeader = {
  schema: z.string().regex(/^(W\/)?"[A-Za-z0-9_-]+"$/),
  required: true,
  description:
    "Of a timeline or a write's answer: the timeline version after it (`\"3\"`), for `If-Match`. Of a page of a timeline's events: the page's validator, for `If-None-Match` (see that operation).",
};
export const LOCATION: ResponseHeader = {
  schema: z.string(),
  required: true,
  description: 'The resource: the timeline, or the command to ask for its decision',
};

export interface ResponseSpec {
  description: string;
  /** Media type → schema; a schema registered in http/response-schemas.ts becomes a `$ref`. */
  content?: Record<string, z.ZodType>;
  /** Headers of this answer, by their component key. */
  headers?: Record<string, ResponseHeader>;
}

/** Query parameters with a description of each: every property of `schema` must have one. */
export interface QueryParameters {
  schema: z.ZodObject;
  descriptions: Record<string, string>;
}

export interface ApiOperation {
  method: 'get' | 'put' | 'post';
  /** OpenAPI path template; its `{name}` parameters are those of http/path-params.ts. */
  path: string;
  operationId: string;
  /** The scope its route's `@RequiresScope` names, or `public` for a `@Public()` route: the document's `security`. */
  access: Scope | 'public';
  tag: TagName;
  summary: string;
  description: string;
  /** Path parameters other than those of http/path-params.ts. */
  pathParams?: Record<string, { schema: z.ZodType; description: string }>;
  query?: QueryParameters;
  /** Request headers, by their component key. */
  headers?: Record<string, HeaderParameter>;
  body?: { schema: z.ZodType; description: string; example?: unknown };
  responses: Record<number, ResponseSpec>;
  /** Problem types this operation can answer with, grouped by status in the document. */
  problems: ProblemCode[];
}

/** What any read can answer with besides its own problems. */
export const READ_PROBLEMS: ProblemCode[] = ['invalid-request', 'internal', 'database-unavailable'];

/** Paging means the same on every route that pages. */
export const PAGE_PARAMETER_DESCRIPTIONS = {
  limit: 'Page size.',
  cursor:
    '`nextCursor` of the previous page. Keep every other parameter as it was: a cursor of another query is a 400. Pages after the first are answered as known when the first was.',
};
