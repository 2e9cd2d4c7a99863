import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { EventChanges, EventData } from './event-data';

/**
 * Redaction of an actor id or a source URL (docs/redaction.md): the values a
 * redaction matches and how event data is stripped of them. The command and
 * the read models carry a SHA-256 of the value, never the value: stored values
 * are matched by hashing them.
 */

export const REDACTION_KINDS = ['actor', 'source'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

export const valueHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex');

/** What a redaction matches: a kind and the hash of a value. */
export interface RedactionKey {
  readonly kind: RedactionKind;
  readonly valueHash: string;
}

export const sameRedactionKey = (a: RedactionKey, b: RedactionKey): boolean => a.kind === b.kind && a.valueHash === b.valueHash;

/** The value a redaction names, as it is compared: actor ids are lowercase by schema, URLs as recorded. */
export const normalizedRedactionValue = (value: string): string => value.trim();

/** SHA-256 (hex) of the normalized value. */
export const redactionHash = (value: string): string => createHash('sha256').update(normalizedRedactionValue(value), 'utf8').digest('hex');

/** The array of event data each kind lives in, and the field of an element that is the value. */
export const REDACTED_FIELDS = {
  actor: { array: 'actors', value: 'id' },
  source: { array: 'sources', value: 'url' },
} as const satisfies Record<RedactionKind, { array: keyof EventData; value: string }>;

type RedactableFields = Partial<Pick<EventData, 'actors' | 'sources'>>;

/** The redactable value of an element of the kind's array, when it has one. */
function valueOf(kind: RedactionKind, element: unknown): string | undefined {
  const value = (element as Record<string, unknown> | null)?.[REDACTED_FIELDS[kind].value];
  return typeof value === 'string' ? value : undefined;
}

function isRedacted(kind: RedactionKind, element: unknown, keys: readonly RedactionKey[]): boolean {
  const value = valueOf(kind, element);
  if (value === undefined) return false;
  const hash = redactionHash(value);
  return keys.some((key) => key.kind === kind && key.valueHash === hash);
}

/** The keys of the actor ids and source URLs that event fields carry: what a redaction of each would match. */
export function redactionKeysOf(fields: RedactableFields): RedactionKey[] {
  return REDACTION_KINDS.flatMap((kind) => {
    const elements = fields[REDACTED_FIELDS[kind].array] as unknown[] | undefined;
    if (!Array.isArray(elements)) return [];
    return elements.flatMap((element) => {
      const value = valueOf(kind, element);
      return value === undefined ? [] : [{ kind, valueHash: redactionHash(value) }];
    });
  });
}

/** Event fields (data, state, a revision's changes) without the actors and sources the keys match. */
export function redactFields<T extends RedactableFields>(fields: T, keys: readonly RedactionKey[]): T {
  if (keys.length === 0) return fields;
  let redacted = fields;
  for (const kind of REDACTION_KINDS) {
    const array = REDACTED_FIELDS[kind].array;
    const elements = fields[array] as unknown[] | undefined;
    if (!Array.isArray(elements) || !elements.some((element) => isRedacted(kind, element, keys))) continue;
    redacted = { ...redacted, [array]: elements.filter((element) => !isRedacted(kind, element, keys)) };
  }
  return redacted;
}

/**
 * Any stored JSON (an event state, a revision's `changed`/`previous`, an outbox
 * payload) with the matching actors and sources removed wherever an `actors` or
 * `sources` array of event fields appears in it. Returns the same value when
 * nothing matched.
 */
export function redactJson<T>(json: T, keys: readonly RedactionKey[]): T {
  if (Array.isArray(json)) {
    const mapped = json.map((item: unknown) => redactJson(item, keys));
    return (mapped.some((item, index) => item !== json[index]) ? mapped : json) as T;
  }
  if (json === null || typeof json !== 'object') return json;
  let result = redactFields(json as RedactableFields, keys) as Record<string, unknown>;
  for (const [name, value] of Object.entries(result)) {
    if (name === 'actors' || name === 'sources') continue;
    const redacted = redactJson(value, keys);
    if (redacted !== value) result = { ...result, [name]: redacted };
  }
  return result as T;
}

/** True when the JSON carries a value the keys match. */
export const carriesRedacted = (json: unknown, keys: readonly RedactionKey[]): boolean => redactJson(json, keys) !== json;

/**
 * A command stripped of what the keys match: a new event or a revision that
 * names a redacted person is decided without them. Other commands carry no
 * actor or source and are returned as they are.
 */
export function stripRedacted<C extends { type: string; event?: EventData; changes?: EventChanges }>(command: C, keys: readonly RedactionKey[]): C {
  if (keys.length === 0) return command;
  if (command.event) {
    const event = redactFields(command.event, keys);
    return event === command.event ? command : { ...command, event };
  }
  if (command.changes) {
    const changes = redactFields(command.changes, keys);
    return changes === command.changes ? command : { ...command, changes };
  }
  return command;
}
