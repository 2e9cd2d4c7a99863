/**
 * Old records of timeline.commands, read as today's commands. The log is kept
 * forever and replayed from offset 0, so a record written by an earlier
 * version must decide today exactly as it did then. Each upcaster turns one
 * version's JSON into the next one's; a record walks the chain up to
 * COMMAND_SCHEMA_VERSION and is then validated as a current command.
 *
 * Versions:
 * - 0: records without a `schema-version` header, from the first writer.
 *   RecordEvent's `event` and ReviseEvent's `changes` named valid time
 *   `occurredAt`. Otherwise the shape of version 1.
 * - 1: the current shape (the domain's command schemas). Valid time is `validTime`.
 */

type Json = Record<string, unknown>;
type Upcaster = (record: unknown) => unknown;

/** `UPCASTERS[n]` turns version n into version n + 1. Pure: no clock, no I/O. */
const UPCASTERS: readonly Upcaster[] = [renameOccurredAtToValidTime];

/** The oldest version we can still read; a record without a version header is of this version. */
export const OLDEST_COMMAND_SCHEMA_VERSION = 0;

/** True when a record of `version` can be read as `current`: no newer than it, no older than the chain reaches. */
export function canUpcast(version: number, current: number): boolean {
  return Number.isInteger(version) && version >= OLDEST_COMMAND_SCHEMA_VERSION && version <= current && current <= UPCASTERS.length;
}

/** The record's JSON in the shape of version `toVersion`; check `canUpcast` first. */
export function upcastCommandRecord(value: unknown, fromVersion: number, toVersion: number): unknown {
  let current = value;
  for (let version = fromVersion; version < toVersion; version += 1) current = UPCASTERS[version](current);
  return current;
}

/** 0 → 1: `occurredAt` became `validTime`. A record that names both is left alone, and validation rejects it. */
function renameOccurredAtToValidTime(record: unknown): unknown {
  if (!isObject(record)) return record;
  if (record.type === 'RecordEvent' && isObject(record.event)) return { ...record, event: renamed(record.event) };
  if (record.type === 'ReviseEvent' && isObject(record.changes)) return { ...record, changes: renamed(record.changes) };
  return record;
}

function renamed(fields: Json): Json {
  if (!('occurredAt' in fields) || 'validTime' in fields) return fields;
  const { occurredAt, ...rest } = fields;
  return { ...rest, validTime: occurredAt };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
