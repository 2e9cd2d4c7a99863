import { z } from 'zod';
import { createTimelineSchema } from './create-timeline/create-timeline';
import { recordEventSchema } from './record-event/record-event';
import { retractEventSchema } from './retract-event/retract-event';
import { redactSchema } from './redact/redact';
import { reviseEventSchema } from './revise-event/revise-event';

/** The commands of one timeline. */
export const commandSchema = z.discriminatedUnion('type', [createTimelineSchema, recordEventSchema, reviseEventSchema, retractEventSchema]);
export type TimelineCommand = z.infer<typeof commandSchema>;

/** Every command of the log: the commands of one timeline, and a redaction, which spans timelines (one record per partition). */
export const logCommandSchema = z.discriminatedUnion('type', [...commandSchema.options, redactSchema]);
export type LogCommand = z.infer<typeof logCommandSchema>;
export type CommandType = LogCommand['type'];
export const COMMAND_TYPES: readonly CommandType[] = logCommandSchema.options.map((option) => option.shape.type.value);
