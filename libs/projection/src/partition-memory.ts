import type { DecidedOn, LoadedState } from '@timeline/database';
import type { EventState, RedactionKey, TimelineState } from '@timeline/domain';
import type { DecidedBatch, referencedIds } from './decide-batch';

/** How many events of a partition are remembered; the least recently used go first. */
export const REMEMBERED_EVENTS = 5_000;
/** How many timelines of a partition are remembered. */
export const REMEMBERED_TIMELINES = 5_000;

type ReferencedIds = ReturnType<typeof referencedIds>;

interface Remembered {
  /** The offset this projector's last batch of the partition stored. */
  nextOffset: number;
  timelines: Map<string, TimelineState>;
  events: Map<string, EventState>;
  redactions: RedactionKey[];
}

/**
 * What this projector knows of the partitions it owns, as its own batches left them: the stored offset, the
 * timelines and events it read or wrote lately, and the partition's redactions. The projector is the only
 * writer of its partitions' rows, so the next batch can be decided on this instead of reading it again.
 *
 * It holds only while nobody else writes the partition: forget a partition when it may be reassigned, when a
 * batch finds the stored offset moved, and when a batch fails in a way that leaves unknown whether it was
 * stored. A redaction rewrites stored rows, so a partition is forgotten after one. What is not remembered is
 * taken as absent; `apply_batch` refuses a batch whose assumptions (DecidedOn) the stored rows contradict.
 */
export class PartitionMemory {
  private readonly partitions = new Map<number, Remembered>();

  constructor(
    private readonly maxEvents = REMEMBERED_EVENTS,
    private readonly maxTimelines = REMEMBERED_TIMELINES,
  ) {}

  /** The partition's stored offset as this projector left it; undefined when it must be read. */
  nextOffset(partition: number): number | undefined {
    return this.partitions.get(partition)?.nextOffset;
  }

  /** The state a batch that refers to `ids` is decided on: what is remembered of them, and the redactions. */
  stateFor(partition: number, ids: ReferencedIds): LoadedState {
    const remembered = this.partitions.get(partition);
    const pick = <T>(map: Map<string, T> | undefined, keys: string[]) =>
      keys.flatMap((key) => {
        const value = map?.get(key);
        return value === undefined ? [] : [value];
      });
    return {
      timelines: pick(remembered?.timelines, ids.timelineIds),
      events: pick(remembered?.events, ids.eventIds),
      redactions: remembered?.redactions ?? [],
      redactionTargets: null,
    };
  }

  /**
   * After a batch is stored: the partition's offset, the state it was decided on and what it wrote. After a
   * redaction, the partition is forgotten: its rows were rewritten.
   */
  remember(partition: number, nextOffset: number, decidedOn: LoadedState, decided: DecidedBatch): void {
    if (decided.redaction) {
      this.forget(partition);
      return;
    }
    const remembered = this.partitions.get(partition) ?? { nextOffset, timelines: new Map(), events: new Map(), redactions: [] };
    remembered.nextOffset = nextOffset;
    remembered.redactions = decidedOn.redactions;
    for (const timeline of [...decidedOn.timelines, ...decided.timelines]) touch(remembered.timelines, timeline.timelineId, timeline, this.maxTimelines);
    for (const event of [...decidedOn.events, ...decided.events]) touch(remembered.events, event.eventId, event, this.maxEvents);
    this.partitions.set(partition, remembered);
  }

  forget(partition: number): void {
    this.partitions.delete(partition);
  }

  forgetAll(): void {
    this.partitions.clear();
  }
}

/** Sets `key` as the most recently used entry; drops the least recently used past `max`. */
function touch<T>(map: Map<string, T>, key: string, value: T, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}

/**
 * What a batch decided on `state` (with `alreadyDecided`) assumed of the stored rows: every command it
 * refers to undecided but those, and every timeline and event it refers to or read as it is in `state`
 * (absent when not there).
 */
export function decidedOn(ids: ReferencedIds, state: LoadedState, alreadyDecided: ReadonlySet<string>): DecidedOn {
  const timelines = new Map<string, number | null>(ids.timelineIds.map((id) => [id, null]));
  for (const timeline of state.timelines) timelines.set(timeline.timelineId, timeline.version);
  const events = new Map<string, number | null>(ids.eventIds.map((id) => [id, null]));
  for (const event of [...state.events, ...(state.redactionTargets?.events ?? [])]) events.set(event.eventId, event.revision);
  return {
    undecided: ids.commandIds.filter((id) => !alreadyDecided.has(id)),
    timelines: [...timelines].map(([timelineId, version]) => ({ timelineId, version })),
    events: [...events].map(([eventId, revision]) => ({ eventId, revision })),
  };
}
