import { createHash } from 'node:crypto';
import type { EventKeyset } from '@timeline/database';
import { parsePartialDate } from '@timeline/domain';
import type { CursorSigner } from '../http/cursor-signer';
import { invalidCursor, isInstant } from './event-search.params';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** `ts_rank` is a `real` in [0, 1]; anything a `real` cannot hold would be a 500, not a 400. */
const MAX_RANK = 1e30;

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

export function encodeSearchCursor(signer: CursorSigner, cursor: SearchCursor, hash: string): string {
  return signer.sign({ h: hash, k: cursor.knownAt, a: cursor.after });
}

export function decodeSearchCursor(signer: CursorSigner, text: string, hash: string): SearchCursor {
  const signed = signer.verify(text);
  if (!signed) throw invalidCursor('is not a cursor this service gave out');
  const decoded = signed.payload as { h?: unknown; k?: unknown; a?: Record<string, unknown> } | null;
  if (decoded?.h !== hash) throw invalidCursor('belongs to another query: keep every other parameter as it was');
  // Every field is checked as a parameter would be: a forged cursor is a 400, never a database error.
  const knownAt = typeof decoded.k === 'string' && isInstant(decoded.k) ? decoded.k : null;
  const after = typeof decoded.a === 'object' && decoded.a !== null ? decoded.a : {};
  const eventId = typeof after.eventId === 'string' && UUID.test(after.eventId) ? after.eventId : null;
  if (!knownAt || !eventId) throw invalidCursor('is not a cursor this service gave out');
  if (typeof after.validLower === 'string' && parsePartialDate(after.validLower)?.precision === 'day') {
    return { knownAt, after: { validLower: after.validLower, eventId } };
  }
  if (typeof after.rank === 'number' && Math.abs(after.rank) <= MAX_RANK) return { knownAt, after: { rank: after.rank, eventId } };
  throw invalidCursor('is not a cursor this service gave out');
}
