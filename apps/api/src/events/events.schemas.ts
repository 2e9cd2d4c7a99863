import { eventChangesSchema, reasonSchema as reason } from '@timeline/domain';
import { z } from 'zod';

const expectedRevision = z.number().int().positive().optional();
export const reviseBodySchema = z.strictObject({ changes: eventChangesSchema, reason, expectedRevision });
export const retractBodySchema = z.strictObject({ reason, expectedRevision });
export type ReviseBody = z.infer<typeof reviseBodySchema>;
export type RetractBody = z.infer<typeof retractBodySchema>;
