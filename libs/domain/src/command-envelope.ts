import { z } from 'zod';
import { timelineIdSchema } from './event-data';
import { storableString } from './storable-text';

/** The fields every command carries. */
export const commandEnvelope = {
  commandId: z.uuid(),
  timelineId: timelineIdSchema,
  /** Hash of the request that produced the command; tells an idempotent retry from a reused key. */
  fingerprint: storableString().max(128).optional(),
  expectedVersion: z.number().int().nonnegative().optional(),
};

export const reasonSchema = storableString().trim().min(1).max(2000);
export const expectedRevisionSchema = z.number().int().positive();
