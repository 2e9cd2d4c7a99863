import { eventFieldsSchema, eventStateSchema } from '@timeline/change-events';
import { eventChangesSchema, type ChangeType, reasonSchema as reason, type AsJson, type EventState } from '@timeline/domain';
import { z } from 'zod';
import { instant, named, revision, type Returns } from '../http/response-schemas';

const expectedRevision = z.number().int().positive().optional();
export const reviseBodySchema = z.strictObject({ changes: eventChangesSchema, reason, expectedRevision });
export const retractBodySchema = z.strictObject({ reason, expectedRevision });
export type ReviseBody = z.infer<typeof reviseBodySchema>;
export type RetractBody = z.infer<typeof retractBodySchema>;

export const eventSchema = named(eventStateSchema, 'Event', 'The current state of a historical event');

// Revisions are left out of the type checks: their record types `changed` loosely; the contract test checks real answers instead.
export const revisionsSchema = named(
  z.strictObject({
    eventId: z.uuid(),
    revisions: z.array(
      z.strictObject({
        revision,
        changeType: z.enum(['EventRecorded', 'EventRevised', 'EventRetracted'] as const satisfies readonly ChangeType[]),
        commandId: z.uuid(),
        reason: z.string().nullable().describe('Why: given with every revision and retraction'),
        changed: eventFieldsSchema.describe('The fields this revision changed, with their new values'),
        previous: eventFieldsSchema.describe('The same fields with the values they had before'),
        knownFrom: instant.describe('Known time: from when the service knew this revision'),
        knownTo: instant.nullable().describe('Until when; null for the current revision'),
        state: eventStateSchema,
      }),
    ),
  }),
  'EventRevisions',
  'Every revision of an event, oldest first: what changed, and why',
);

const returns: [Returns<AsJson<EventState>, typeof eventSchema>] = [true];
void returns;
