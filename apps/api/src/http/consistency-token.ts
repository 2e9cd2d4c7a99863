import { decodeConsistencyToken, type WalPosition } from '@timeline/database';
import { Problem } from '@timeline/problems';
import { z } from 'zod';
import type { HeaderParameter, ResponseHeader } from './api-operation';

/** The header a write's answer carries and a read sends back (invariant 9, read your own writes). */
export const CONSISTENCY_TOKEN_HEADER = 'consistency-token';

const TOKEN_DESCRIPTION =
  'Opaque. A read that sends it back never sees read models older than the write (whichever database copy serves it); ' +
  'a read waits at most READ_CONSISTENCY_WAIT_MS for a replica to get there, then reads from the primary. The typed client sends the greatest of its own writes by itself.';

export const CONSISTENCY_TOKEN_ANSWER: ResponseHeader = {
  name: 'Consistency-Token',
  schema: z.string().max(100),
  required: true,
  description: `Of a decided write: a token at or after its decision. ${TOKEN_DESCRIPTION}`,
};

/** On answers that carry it only once decided (`GET /v1/commands/{commandId}`, a redaction's status). */
export const CONSISTENCY_TOKEN_ONCE_DECIDED: ResponseHeader = { ...CONSISTENCY_TOKEN_ANSWER, required: false };

export const CONSISTENCY_TOKEN_PARAMETER: HeaderParameter = {
  name: 'Consistency-Token',
  schema: z.string().max(100),
  description: `The \`Consistency-Token\` of the caller's last write: the answer reflects that write at least. A value this service did not give out is a 400 \`invalid-consistency-token\`. ${TOKEN_DESCRIPTION}`,
};

/** The WAL position of a request's `Consistency-Token` (undefined without one); a token we did not give out is a 400. */
export function consistencyTokenOf(value: string | string[] | undefined, field = `header.${CONSISTENCY_TOKEN_HEADER}`): WalPosition | undefined {
  if (value === undefined) return undefined;
  const position = typeof value === 'string' ? decodeConsistencyToken(value.trim()) : null;
  if (position === null) {
    throw new Problem(
      'invalid-consistency-token',
      `${field}: is not a consistency token this service gave out (send back the header of a write's answer as it came)`,
      {
        errors: [{ field, message: 'is not a consistency token this service gave out' }],
      },
    );
  }
  return position;
}
