import type { EventChange } from './changes';
import { redactionKeysOf, sameRedactionKey, type RedactionKey } from './redaction';
import type { PartitionState, TimelineState } from './state';

/** What every change of an event says first: the command, the timeline's next version, when, and the event's new revision. */
export function eventChangeBase(
  command: { readonly commandId: string; readonly timelineId: string; readonly eventId: string },
  timeline: TimelineState,
  knownAt: string,
  revision: number,
) {
  return { commandId: command.commandId, timelineId: command.timelineId, version: timeline.version + 1, knownAt, eventId: command.eventId, revision };
}

/**
 * The state with an event changed: the change's event state, the timeline's
 * new version, `countDelta` more live events, and the values the event has
 * carried now including those of this revision.
 */
export function withEventChange(state: PartitionState, change: EventChange, countDelta: number): PartitionState {
  const timeline = state.timelines.get(change.timelineId);
  if (!timeline) return state;
  const timelines = new Map(state.timelines);
  timelines.set(change.timelineId, { ...timeline, version: change.version, eventCount: timeline.eventCount + countDelta, updatedAt: change.knownAt });
  const events = new Map(state.events);
  events.set(change.eventId, change.event);
  const carried = [...(state.redactableValues.get(change.eventId) ?? []), ...redactionKeysOf(change.event)];
  const redactableValues = new Map(state.redactableValues);
  redactableValues.set(change.eventId, withoutDuplicates(carried));
  return { ...state, timelines, events, redactableValues };
}

const withoutDuplicates = (keys: RedactionKey[]): RedactionKey[] =>
  keys.filter((key, index) => keys.findIndex((other) => sameRedactionKey(key, other)) === index);
