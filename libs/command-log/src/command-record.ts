import { logCommandSchema, type LogCommand, type Redact, type TimelineCommand } from '@timeline/domain';
import type { OutgoingRecord } from './command-log';
import { canUpcast, OLDEST_COMMAND_SCHEMA_VERSION, upcastCommandRecord } from './upcasters';

/**
 * The wire format of timeline.commands: a command as JSON, keyed by its
 * timeline, with headers that name it and its schema version.
 */

/** The version of the command record written to `timeline.commands`; older ones are upcast (upcasters.ts). */
export const COMMAND_SCHEMA_VERSION = 1;

/** Header names carried by every record of timeline.commands. */
export const COMMAND_HEADERS = {
  commandId: 'command-id',
  commandType: 'command-type',
  schemaVersion: 'schema-version',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

/** W3C trace context's `traceparent`; a record's header of another shape is not carried on. */
export const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The record of a command on timeline.commands: keyed by its timeline, the JSON command, and its headers. */
export function commandRecord(command: TimelineCommand, traceHeaders: Record<string, string>): OutgoingRecord {
  return {
    key: command.timelineId,
    value: JSON.stringify(command),
    headers: {
      [COMMAND_HEADERS.commandId]: command.commandId,
      [COMMAND_HEADERS.commandType]: command.type,
      [COMMAND_HEADERS.schemaVersion]: String(COMMAND_SCHEMA_VERSION),
      ...traceHeaders,
    },
  };
}

/**
 * The record of a redaction for one partition: it spans timelines, so it names its partition instead of
 * being placed by a key (docs/redaction.md). The key only labels it.
 */
export function redactionRecord(command: Redact, partition: number, traceHeaders: Record<string, string>): OutgoingRecord {
  return {
    key: `redaction:${command.redactionId}`,
    partition,
    value: JSON.stringify(command),
    headers: {
      [COMMAND_HEADERS.commandId]: command.commandId,
      [COMMAND_HEADERS.commandType]: command.type,
      [COMMAND_HEADERS.schemaVersion]: String(COMMAND_SCHEMA_VERSION),
      ...traceHeaders,
    },
  };
}

export type ParsedCommandRecord = { ok: true; command: LogCommand } | { ok: false; detail: string };

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
  const parsed = logCommandSchema.safeParse(upcastCommandRecord(json, version, COMMAND_SCHEMA_VERSION));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, detail: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { ok: true, command: parsed.data };
}
