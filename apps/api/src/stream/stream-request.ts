import { timelineIdSchema, type ChangeType } from '@timeline/domain';
import { CHANGE_EVENT_TYPE_LIST, CHANGE_EVENT_TYPES } from '@timeline/change-events';
import type { StreamFilter, WalPosition } from '@timeline/database';
import { consistencyTokenOf, CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import { z } from 'zod';
import { parseOrThrow } from '@timeline/problems';

const position = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a stream position: a non-negative integer')
  .transform(Number);

export const querySchema = z.strictObject({
  after: position.optional(),
  timelineId: timelineIdSchema.optional(),
  type: z
    .string()
    .transform((list) => list.split(',').map((type) => type.trim()))
    .pipe(z.array(z.enum(CHANGE_EVENT_TYPE_LIST, { message: `must be a list of ${CHANGE_EVENT_TYPE_LIST.join(', ')}` })))
    .optional(),
  consistencyToken: z.string().max(100).optional(),
});
export const headersSchema = z.object({ 'last-event-id': position.optional() });

const CHANGE_TYPE_OF = Object.fromEntries(Object.entries(CHANGE_EVENT_TYPES).map(([changeType, type]) => [type, changeType])) as Record<string, ChangeType>;

export interface StreamRequest {
  /** Resume after this position; `0` is the beginning; undefined is "from now". */
  after?: number;
  /** Where `after` came from, to name it in a 400. */
  afterField: 'query.after' | 'header.last-event-id';
  filter: StreamFilter;
  /** The position of the caller's `Consistency-Token` (header, or `consistencyToken` for EventSource, which sends no headers). */
  atLeast?: WalPosition;
}

/**
 * Reads `?after=`, `Last-Event-ID` (which wins: it is what a reconnecting EventSource sends), `timelineId`, `type`,
 * and the `Consistency-Token` header or, for EventSource, the `consistencyToken` parameter (the header wins).
 */
export function parseStreamRequest(query: unknown, headers: Record<string, string | string[] | undefined>): StreamRequest {
  const parsedQuery = parseOrThrow(querySchema, query ?? {}, 'query');
  const parsedHeaders = parseOrThrow(headersSchema, { 'last-event-id': headers['last-event-id'] }, 'header');
  const filter: StreamFilter = {};
  if (parsedQuery.timelineId) filter.timelineId = parsedQuery.timelineId;
  if (parsedQuery.type) filter.changeTypes = [...new Set(parsedQuery.type.map((type) => CHANGE_TYPE_OF[type]))];
  const fromHeader = parsedHeaders['last-event-id'] !== undefined;
  return {
    after: fromHeader ? parsedHeaders['last-event-id'] : parsedQuery.after,
    afterField: fromHeader ? 'header.last-event-id' : 'query.after',
    filter,
    atLeast:
      headers[CONSISTENCY_TOKEN_HEADER] !== undefined
        ? consistencyTokenOf(headers[CONSISTENCY_TOKEN_HEADER])
        : consistencyTokenOf(parsedQuery.consistencyToken, 'query.consistencyToken'),
  };
}
