import { timelineIdSchema } from '@timeline/domain';
import { z } from 'zod';
import { parseOrThrow } from '@timeline/problems';

/** The path parameters of the api and what each must look like. */
export const pathParamSchemas = {
  timelineId: timelineIdSchema,
  eventId: z.uuid(),
  commandId: z.uuid(),
  redactionId: z.uuid(),
};
export type PathParamName = keyof typeof pathParamSchemas;

export const PATH_PARAMETER_DESCRIPTIONS: Record<PathParamName, string> = {
  timelineId: 'The timeline id: a lowercase slug such as `japan-nato`',
  eventId: 'The event id (a UUID)',
  commandId: 'The command id (a UUID), as in the `Location` of a 202',
  redactionId: 'The redaction id (a UUID), as `POST /v1/redactions` answered it',
};

export const parseTimelineId = (timelineId: string): string =>
  parseOrThrow(z.object({ timelineId: pathParamSchemas.timelineId }), { timelineId }, 'path').timelineId;

export const parseEventId = (eventId: string): string => parseOrThrow(z.object({ eventId: pathParamSchemas.eventId }), { eventId }, 'path').eventId;

export const parseCommandId = (commandId: string): string => parseOrThrow(z.object({ commandId: pathParamSchemas.commandId }), { commandId }, 'path').commandId;

export const parseRedactionId = (redactionId: string): string =>
  parseOrThrow(z.object({ redactionId: pathParamSchemas.redactionId }), { redactionId }, 'path').redactionId;
