import { z } from 'zod';
import { eventChangesSchema, eventDataSchema, timelineDataSchema, timelineIdSchema } from './event-data';
import { storableString } from './storable-text';

export const reasonSchema = storableString().trim().min(1).max(2000);
const expectedVersionSchema = z.number().int().nonnegative();
const expectedRevisionSchema = z.number().int().positive();

const envelope = {
  commandId: z.uuid(),
  timelineId: timelineIdSchema,
  /** Hash of the request that produced the command; tells an idempotent retry from a reused key. */
  fingerprint: storableString().max(128).optional(),
  expectedVersion: expectedVersionSchema.optional(),
};

export const createTimelineSchema = z.strictObject({
  type: z.literal('CreateTimeline'),
  ...envelope,
  timeline: timelineDataSchema,
});

export const recordEventSchema = z.strictObject({
  type: z.literal('RecordEvent'),
  ...envelope,
  eventId: z.uuid(),
  event: eventDataSchema,
});

export const reviseEventSchema = z.strictObject({
  type: z.literal('ReviseEvent'),
  ...envelope,
  eventId: z.uuid(),
  expectedRevision: expectedRevisionSchema.optional(),
  changes: eventChangesSchema,
  reason: reasonSchema,
});

export const retractEventSchema = z.strictObject({
  type: z.literal('RetractEvent'),
  ...envelope,
  eventId: z.uuid(),
  expectedRevision: expectedRevisionSchema.optional(),
  reason: reasonSchema,
});

export const commandSchema = z.discriminatedUnion('type', [
  createTimelineSchema,
  recordEventSchema,
  reviseEventSchema,
  retractEventSchema,
]);

export type CreateTimeline = z.infer<typeof createTimelineSchema>;
export type RecordEvent = z.infer<typeof recordEventSchema>;
export type ReviseEvent = z.infer<typeof reviseEventSchema>;
export type RetractEvent = z.infer<typeof retractEventSchema>;
export type TimelineCommand = z.infer<typeof commandSchema>;
export type CommandType = TimelineCommand['type'];
export const COMMAND_TYPES: readonly CommandType[] = ['CreateTimeline', 'RecordEvent', 'ReviseEvent', 'RetractEvent'];
