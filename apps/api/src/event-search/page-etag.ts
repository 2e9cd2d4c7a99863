import { createHash } from 'node:crypto';
import type { TimelineValidator } from '@timeline/database';
import type { EventSearchParams } from './event-search.params';

/**
 * The shape of a page's JSON and of its TimelineJS document: change it with them, so that a client's copy in the old
 * shape is not confirmed by a 304.
 */
const PAGE_REPRESENTATION = 1;

/** A request for a page of one timeline's events, as far as its answer depends on it. */
export interface TimelinePageRequest {
  timelineId: string;
  params: EventSearchParams;
  /** The TimelineJS document rather than the JSON page (`format` or `Accept`). */
  timelineJs: boolean;
  /** The languages titles and summaries are given in (`lang`, `Accept-Language`). */
  languages: string[];
}

/**
 * The ETag of a page of a timeline's events: a hash of the request (query, cursor, representation) and of what the
 * timeline's pages depend on (its version, which every accepted change of its events moves, and the redactions).
 * A page pinned to a known time (`knownAt`, or a cursor, which carries one) is the same bytes while those hold: a
 * strong tag. A page read at now names that moment in `knownAt` and its cursor: another read gives the same events
 * at a later moment, so its tag is weak (RFC 9110 §8.8.1); `If-None-Match` compares tags weakly either way.
 */
export function timelinePageEtag(request: TimelinePageRequest, validator: TimelineValidator): string {
  const { timelineId, params, timelineJs, languages } = request;
  const hash = createHash('sha256')
    .update(JSON.stringify([PAGE_REPRESENTATION, timelineId, params, timelineJs, languages, validator.version, validator.redactions]))
    .digest('base64url')
    .slice(0, 27);
  const pinned = params.knownAt !== undefined || params.cursor !== undefined;
  return pinned ? `"${hash}"` : `W/"${hash}"`;
}

/**
 * Whether `If-None-Match` names `etag` (RFC 9110 §13.1.2): `*`, or any listed tag by weak comparison (the
 * opaque tags compared, `W/` ignored). Then the answer is `304 Not Modified`.
 */
export function ifNoneMatchNames(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.replace(/^W\//, '');
  return (header.match(/(?:W\/)?"[^"]*"/g) ?? []).some((tag) => opaque(tag) === opaque(etag));
}
