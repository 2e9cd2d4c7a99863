import { createHash } from 'node:crypto';
import type { EventKeyset } from '@timeline/database';
import { invalidCursor } from './event-search.params';

/**
 * What a cursor carries: the position after the last event of the page, the
 * known time the first page was answered at (every later page is answered as
 * known at that moment, so concurrent writes neither shift nor repeat events),
 * and a hash of the query it belongs to.
 */
export interface SearchCursor {
  knownAt: string;
  after: EventKeyset;
}

export function queryHash(query: unknown): string {
  return createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
}

export function encodeSearchCursor(cursor: SearchCursor, hash: string): string {
  return Buffer.from(JSON.stringify({ h: hash, k: cursor.knownAt, a: cursor.after })).toString('base64url');
}

export function decodeSearchCursor(text: string, hash: string): SearchCursor {
  let decoded: { h?: unknown; k?: unknown; a?: Record<string, unknown> };
  try {
    decoded = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor('is not a cursor this service gave out');
  }
  if (decoded?.h !== hash) throw invalidCursor('belongs to another query: keep every other parameter as it was');
  const knownAt = typeof decoded.k === 'string' && !Number.isNaN(Date.parse(decoded.k)) ? decoded.k : null;
  const after = decoded.a ?? {};
  const eventId = typeof after.eventId === 'string' && /^[0-9a-f-]{36}$/.test(after.eventId) ? after.eventId : null;
  if (!knownAt || !eventId) throw invalidCursor('is not a cursor this service gave out');
  if (typeof after.validLower === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(after.validLower)) {
    return { knownAt, after: { validLower: after.validLower, eventId } };
  }
  if (typeof after.rank === 'number') return { knownAt, after: { rank: after.rank, eventId } };
  throw invalidCursor('is not a cursor this service gave out');
}
