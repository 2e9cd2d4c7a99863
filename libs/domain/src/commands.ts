import { z } from 'zod';
import { eventChangesSchema, eventDataSchema, timelineDataSchema, timelineIdSchema } from './event-data';
import { storableString } from './storable-text';
import { canUpcast, OLDEST_COMMAND_SCHEMA_VERSION, upcastCommandRecord } from './upcasters';

/** The version of the command record written to `timeline.commands`; older ones are upcast (upcasters.ts). */
export const COMMAND_SCHEMA_VERSION = 1;

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

export type ParsedCommandRecord =
  | { ok: true; command: TimelineCommand }
  | { ok: false; detail: string };

/**
 * Reads a record of `timeline.commands`, upcasting a record of an older schema
 * version (no version header: the oldest) to the current shape first. Anything
 * that is not a valid command of a schema version we know is reported, never
 * thrown: the projector decides it `rejected: malformed` and moves on.
 */
export function parseCommandRecord(value: Buffer | string | null, schemaVersion: number | undefined): ParsedCommandRecord {
  if (value === null) return { ok: false, detail: 'record has no value' };
  const version = schemaVersion ?? OLDEST_COMMAND_SCHEMA_VERSION;
  if (!canUpcast(version, COMMAND_SCHEMA_VERSION)) return { ok: false, detail: `unknown command schema version ${version}` };
  let json: unknown;
  try {
    json = JSON.parse(value.toString());
  } catch {
    return { ok: false, detail: 'value is not JSON' };
  }
  const parsed = commandSchema.safeParse(upcastCommandRecord(json, version, COMMAND_SCHEMA_VERSION));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, detail: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, command: parsed.data };
}
