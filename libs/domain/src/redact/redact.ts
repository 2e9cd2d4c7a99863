import { z } from 'zod';
import type { RedactionApplied, RedactionRecorded } from '../changes';
import { accept, type Decision, type DecisionContext } from '../decision';
import { REDACTION_KINDS, redactFields, sameRedactionKey, valueHashSchema, type RedactionKey } from '../redaction';
import type { PartitionState } from '../state';
import { storableString } from '../storable-text';

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

/**
 * Always accepted: one `RedactionApplied` per timeline with events that carried
 * the value in any revision (in timeline id order), then the partition's
 * `RedactionRecorded`. Neither an event's revision nor its fields other than
 * actors and sources change.
 */
export function decideRedact(command: Redact, state: PartitionState, { knownAt }: DecisionContext): Decision {
  const key: RedactionKey = { kind: command.kind, valueHash: command.valueHash };
  const carrying = [...state.redactableValues]
    .filter(([eventId, keys]) => state.events.has(eventId) && keys.some((carried) => sameRedactionKey(carried, key)))
    .map(([eventId]) => state.events.get(eventId)!)
    .sort((a, b) => compare(a.timelineId, b.timelineId) || compare(a.eventId, b.eventId));
  const timelineIds = [...new Set(carrying.map((event) => event.timelineId))];
  const applied = timelineIds.flatMap((timelineId): RedactionApplied[] => {
    const timeline = state.timelines.get(timelineId);
    if (!timeline) return [];
    const eventIds = carrying.filter((event) => event.timelineId === timelineId).map((event) => event.eventId);
    const { commandId, redactionId, kind, valueHash } = command;
    return [{ type: 'RedactionApplied', commandId, timelineId, version: timeline.version + 1, knownAt, redactionId, kind, valueHash, eventIds }];
  });
  const recorded: RedactionRecorded = {
    type: 'RedactionRecorded',
    commandId: command.commandId,
    redactionId: command.redactionId,
    kind: command.kind,
    valueHash: command.valueHash,
    partitions: command.partitions,
    eventIds: carrying.map((event) => event.eventId).sort(compare),
    knownAt,
  };
  return accept(...applied, recorded);
}

/** The timeline's version moves on; its events lose the value, and no longer carry it in any revision. */
export function evolveRedactionApplied(state: PartitionState, change: RedactionApplied): PartitionState {
  const timeline = state.timelines.get(change.timelineId);
  if (!timeline) return state;
  const key: RedactionKey = { kind: change.kind, valueHash: change.valueHash };
  const timelines = new Map(state.timelines);
  timelines.set(change.timelineId, { ...timeline, version: change.version, updatedAt: change.knownAt });
  const events = new Map(state.events);
  const redactableValues = new Map(state.redactableValues);
  for (const eventId of change.eventIds) {
    const event = state.events.get(eventId);
    if (event) events.set(eventId, redactFields(event, [key]));
    const carried = state.redactableValues.get(eventId);
    if (carried)
      redactableValues.set(
        eventId,
        carried.filter((other) => !sameRedactionKey(other, key)),
      );
  }
  return { ...state, timelines, events, redactableValues };
}

/** The partition's later commands are decided without the value. */
export function evolveRedactionRecorded(state: PartitionState, change: RedactionRecorded): PartitionState {
  return { ...state, redactions: [...state.redactions, { kind: change.kind, valueHash: change.valueHash }] };
}

/** Code-unit order: the same on every machine, unlike a locale's. */
const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
