import { eventDataSchema } from '@timeline/domain';
import { z } from 'zod';

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});
export const recordEventBodySchema = eventDataSchema.extend({ eventId: z.uuid().optional() });
export type RecordEventBody = z.infer<typeof recordEventBodySchema>;
