import { z } from 'zod';
import { parseOrThrow } from '@timeline/problems';

export const preconditionsSchema = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 visible ASCII characters')
    .optional(),
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d{1,15}"?$/, 'must be the timeline version as an ETag, e.g. "3"')
    .transform((value) => Number(value.replace(/^W\//, '').replace(/"/g, '')))
    .optional(),
});

export interface WriteHeaders {
  idempotencyKey?: string;
  /** The timeline version from `If-Match`. */
  expectedVersion?: number;
  /** The caller's W3C trace context; one that is not valid starts a new trace. */
  traceparent?: string;
}

/** Reads `Idempotency-Key`, `If-Match` and `traceparent`; a bad precondition is a 400 naming the header. */
export function writeHeaders(headers: Record<string, string | undefined>): WriteHeaders {
  const parsed = parseOrThrow(preconditionsSchema, { 'idempotency-key': headers['idempotency-key'], 'if-match': headers['if-match'] }, 'header');
  return { idempotencyKey: parsed['idempotency-key'], expectedVersion: parsed['if-match'], traceparent: headers.traceparent };
}
