import { createHash } from 'node:crypto';
import { z } from 'zod';
import { accept, type Decision, type DecisionContext } from '../decision';
import type { EventChanges, EventData } from '../event-data';
import { storableString } from '../storable-text';
import type { ChangeBase, EventState, TimelineState, TimelineView } from '../timeline';

/**
 * Redaction of an actor id or a source URL (docs/redaction.md). The command and
 * the read models carry a SHA-256 of the value, never the value: stored values
 * are matched by hashing them.
 */

export const REDACTION_KINDS = ['actor', 'source'] as const;
export type RedactionKind = (typeof REDACTION_KINDS)[number];

export const valueHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in lowercase hex');

/** Appended once to every partition of the command log; each partition's record has its own command id. */
export const redactSchema = z.strictObject({
  type: z.literal('Redact'),
  commandId: z.uuid(),
  redactionId: z.uuid(),
  kind: z.enum(REDACTION_KINDS),
  valueHash: valueHashSchema,
  /** How many partitions the topic had when the redaction was issued: it is done when that many decided it. */
  partitions: z.number().int().positive(),
  fingerprint: storableString().max(128).optional(),
});
export type Redact = z.infer<typeof redactSchema>;

/** What a redaction matches: a kind and the hash of a value. */
export interface RedactionKey {
  readonly kind: RedactionKind;
  readonly valueHash: string;
}

/** One change per affected timeline: `timeline.events` is ordered per timeline. */
export interface RedactionApplied extends ChangeBase {
  readonly type: 'RedactionApplied';
  readonly redactionId: string;
  readonly kind: RedactionKind;
  readonly valueHash: string;
  /** The timeline's events rewritten, in id order: drop or re-fetch them. */
  readonly eventIds: readonly string[];
}

/** The value a redaction names, as it is compared: actor ids are lowercase by schema, URLs as recorded. */
export const normalizedRedactionValue = (value: string): string => value.trim();

/** SHA-256 (hex) of the normalized value. */
export const redactionHash = (value: string): string => createHash('sha256').update(normalizedRedactionValue(value), 'utf8').digest('hex');

/** The array of event data each kind lives in, and the field of an element that is the value. */
export const REDACTED_FIELDS = {
  actor: { array: 'actors', value: 'id' },
  source: { array: 'sources', value: 'url' },
} as const satisfies Record<RedactionKind, { array: keyof EventData; value: string }>;

function isRedacted(kind: RedactionKind, element: unknown, keys: readonly RedactionKey[]): boolean {
  const value = (element as Record<string, unknown> | null)?.[REDACTED_FIELDS[kind].value];
  if (typeof value !== 'string') return false;
  const hash = redactionHash(value);
  return keys.some((key) => key.kind === kind && key.valueHash === hash);
}

/** Event fields (data, state, a revision's changes) without the actors and sources the keys match. */
export function redactFields<T extends Partial<Pick<EventData, 'actors' | 'sources'>>>(fields: T, keys: readonly RedactionKey[]): T {
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
  let result = redactFields(json as Partial<Pick<EventData, 'actors' | 'sources'>>, keys) as Record<string, unknown>;
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
 * A later command of a partition, stripped of what the partition's redactions
 * remove: a new event or a revision that names the person is stored without
 * them. Other commands carry no actor or source.
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

/**
 * What deciding a redaction sees: the partition's events that carry the value
 * in any revision (found by the repository), and their timelines.
 */
export interface RedactionView {
  readonly timelines: ReadonlyMap<string, TimelineState>;
  readonly events: readonly EventState[];
}

/**
 * Always accepted: one `RedactionApplied` per timeline with events that carry
 * the value (in timeline id order), none when no event does. Neither an event's
 * revision nor its fields other than actors and sources change.
 */
export function decideRedact(command: Redact, view: RedactionView, { knownAt }: DecisionContext): Decision {
  const eventIdsByTimeline = new Map<string, string[]>();
  for (const event of view.events) {
    const list = eventIdsByTimeline.get(event.timelineId) ?? [];
    list.push(event.eventId);
    eventIdsByTimeline.set(event.timelineId, list);
  }
  const changes = [...eventIdsByTimeline.keys()].sort().flatMap((timelineId): RedactionApplied[] => {
    const timeline = view.timelines.get(timelineId);
    if (!timeline) return [];
    return [
      {
        type: 'RedactionApplied',
        commandId: command.commandId,
        timelineId,
        version: timeline.version + 1,
        knownAt,
        redactionId: command.redactionId,
        kind: command.kind,
        valueHash: command.valueHash,
        eventIds: [...eventIdsByTimeline.get(timelineId)!].sort(),
      },
    ];
  });
  return accept(...changes);
}

/** The timeline's version moves on; its events in the view lose the value. */
export function evolveRedactionApplied(view: TimelineView, change: RedactionApplied): TimelineView {
  if (!view.timeline || view.timeline.timelineId !== change.timelineId) return view;
  const keys = [{ kind: change.kind, valueHash: change.valueHash }];
  const events = new Map([...view.events].map(([eventId, event]) => [eventId, change.eventIds.includes(eventId) ? redactFields(event, keys) : event]));
  return { timeline: { ...view.timeline, version: change.version, updatedAt: change.knownAt }, events };
}
