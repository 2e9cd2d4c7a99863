import { actorSchema, REDACTION_KINDS, sourceSchema, valueHashSchema } from '@timeline/domain';
import { z } from 'zod';
import { instant, named } from '../http/response-schemas';

/** Exactly one of an actor id or a source URL, with the limits the rest of the api applies to them. */
export const redactBodySchema = z
  .strictObject({
    actorId: actorSchema.shape.id.optional().describe('An actor id, as events name it in `actors[].id`'),
    sourceUrl: sourceSchema.shape.url.optional().describe('A source URL, exactly as events give it in `sources[].url`'),
  })
  .refine((body) => (body.actorId === undefined) !== (body.sourceUrl === undefined), { message: 'give exactly one of actorId and sourceUrl' });
export type RedactBody = z.infer<typeof redactBodySchema>;

export const redactionSchema = named(
  z.strictObject({
    redactionId: z.uuid(),
    status: z.enum(['applied', 'pending']).describe('`applied` once every partition of the command log has applied it'),
    kind: z.enum(REDACTION_KINDS).optional(),
    valueHash: valueHashSchema.optional().describe('SHA-256 (hex) of the value: what `RedactionApplied` changes carry; the value itself is never stored'),
    partitions: z.number().int().positive().optional().describe('Partitions of the command log the redaction was appended to'),
    partitionsApplied: z.number().int().nonnegative().describe('Partitions that have applied it'),
    eventsRewritten: z.number().int().nonnegative().describe('Events rewritten without the value, over the partitions that applied it'),
    appliedAt: instant.optional().describe('Known time of the last partition that applied it'),
    location: z.string().describe('Where to follow it: GET /v1/redactions/{redactionId}'),
  }),
  'Redaction',
  'A redaction of an actor id or a source URL, and how far it has been applied',
);
