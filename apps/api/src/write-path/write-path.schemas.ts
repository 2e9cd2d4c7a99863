import { eventStateSchema } from '@timeline/change-events';
import { timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { instant, named, revision, version, type Returns } from '../http/response-schemas';
import type { CommandStatus } from './command-status';

export const commandPendingSchema = named(
  z.strictObject({
    commandId: z.uuid(),
    status: z.literal('pending'),
    location: z.string().describe('Where to ask for the decision: GET /v1/commands/{commandId}'),
  }),
  'CommandPending',
  'The command is in the log but was not decided within the wait bound; it will be, exactly once',
);

/** The answer of every accepted event command (see `eventAnswer`). */
export const eventAnswerSchema = named(
  z.strictObject({
    event: eventStateSchema,
    revision,
    version,
    commandId: z.uuid(),
  }),
  'EventAnswer',
  'The event as this command left it',
);

export const commandStatusSchema = named(
  z.strictObject({
    commandId: z.uuid(),
    status: z.enum(['pending', 'accepted', 'rejected']),
    commandType: z.string().optional(),
    timelineId: timelineIdSchema.nullable().optional(),
    eventId: z.uuid().nullable().optional(),
    reason: z.string().nullable().optional().describe('Why a command was rejected, e.g. `version_conflict`'),
    detail: z.string().nullable().optional(),
    version: z.number().int().nonnegative().nullable().optional(),
    revision: z.number().int().positive().nullable().optional(),
    knownAt: instant.optional().describe('When the command was decided'),
  }),
  'CommandStatus',
  'The decision on a command; `pending` while there is none (the api cannot tell "not yet" from "never sent")',
);

const returns: [Returns<CommandStatus, typeof commandStatusSchema>] = [true];
void returns;
