import { describe, expect, test } from '@jest/globals';
import { decide } from './decide';
import { evolve } from './evolve';
import { createTimeline, EVENT, given, OTHER_EVENT, recordEvent, retractEvent, reviseEvent, T1, T2 } from './given-when-then';
import { knownTimeRanges } from './known-time';
import type { Change } from './changes';
import type { PartitionState } from './state';

const T3 = '2023-07-14T09:00:00.000Z';

/** The changes of `commands` decided one after the other from `state`, the n-th at `knownAts[n]`. */
function decided(state: PartitionState, commands: Parameters<typeof decide>[0][], knownAts: string[]): Change[] {
  const changes: Change[] = [];
  commands.forEach((command, index) => {
    const decision = decide(command, state, { knownAt: knownAts[index] });
    if (decision.outcome !== 'accepted') throw new Error(decision.detail);
    state = decision.changes.reduce(evolve, state);
    changes.push(...decision.changes);
  });
  return changes;
}

const ranges = (changes: Change[]) =>
  knownTimeRanges(changes).revisions.map(({ change, knownFrom, knownTo }) => [change.eventId, change.revision, knownFrom, knownTo]);

describe('knownTimeRanges', () => {
  test('revisions of one event decided together: each is current until the next, the last still is', () => {
    const changes = decided(given(createTimeline()).state, [recordEvent(), reviseEvent(), retractEvent()], [T1, T2, T3]);
    expect(ranges(changes)).toEqual([
      [EVENT, 1, T1, T2],
      [EVENT, 2, T2, T3],
      [EVENT, 3, T3, null],
    ]);
    expect(knownTimeRanges(changes).replaced).toEqual([]);
  });

  test('the first new revision of an event closes the one recorded before it', () => {
    const changes = decided(given(createTimeline(), recordEvent()).state, [reviseEvent(), retractEvent()], [T2, T3]);
    expect(ranges(changes)).toEqual([
      [EVENT, 2, T2, T3],
      [EVENT, 3, T3, null],
    ]);
    expect(knownTimeRanges(changes).replaced).toEqual([{ eventId: EVENT, revision: 1, knownTo: T2 }]);
  });

  test('events do not close each other, and a created timeline has no revision', () => {
    const changes = decided(given().state, [createTimeline(), recordEvent(), recordEvent({ eventId: OTHER_EVENT })], [T1, T2, T3]);
    expect(ranges(changes)).toEqual([
      [EVENT, 1, T2, null],
      [OTHER_EVENT, 1, T3, null],
    ]);
    expect(knownTimeRanges(changes).replaced).toEqual([]);
  });
});
