import { describe, expect, test } from '@jest/globals';
import type { EventState, TimelineState } from '@timeline/domain';
import type { DecidedBatch } from './decide-batch';
import { decidedOn, PartitionMemory } from './partition-memory';

const timeline = (timelineId: string, version = 1) => ({ timelineId, version }) as TimelineState;
const event = (eventId: string, revision = 1) => ({ eventId, revision }) as EventState;
const nothing = { timelines: [], events: [], redactions: [], redactionTargets: null };
const wrote = (written: Partial<DecidedBatch>): DecidedBatch => ({ decisions: [], changes: [], timelines: [], events: [], redelivered: [], ...written });
const ids = (timelineIds: string[], eventIds: string[] = [], commandIds: string[] = []) => ({ commandIds, timelineIds, eventIds, redaction: null });

describe('the partition memory', () => {
  test('remembers the offset, what a batch was decided on and what it wrote, per partition', () => {
    const memory = new PartitionMemory();
    memory.remember(0, 5, { ...nothing, timelines: [timeline('a', 1)], redactions: [{ kind: 'actor', valueHash: 'h' }] }, wrote({ events: [event('e', 2)] }));
    expect(memory.nextOffset(0)).toBe(5);
    expect(memory.nextOffset(1)).toBeUndefined();
    expect(memory.stateFor(0, ids(['a', 'b'], ['e']))).toEqual({
      timelines: [timeline('a', 1)],
      events: [event('e', 2)],
      redactions: [{ kind: 'actor', valueHash: 'h' }],
      redactionTargets: null,
    });
    expect(memory.stateFor(1, ids(['a']))).toEqual(nothing);
  });

  test('a written state replaces the one read', () => {
    const memory = new PartitionMemory();
    memory.remember(0, 3, { ...nothing, timelines: [timeline('a', 1)] }, wrote({ timelines: [timeline('a', 2)] }));
    expect(memory.stateFor(0, ids(['a'])).timelines).toEqual([timeline('a', 2)]);
  });

  test('past its size it drops the least recently used', () => {
    const memory = new PartitionMemory(2, 2);
    memory.remember(0, 1, nothing, wrote({ events: [event('e1'), event('e2')] }));
    memory.remember(0, 2, { ...nothing, events: [event('e1')] }, wrote({ events: [event('e3')] }));
    expect(memory.stateFor(0, ids([], ['e1', 'e2', 'e3'])).events.map((e) => e.eventId)).toEqual(['e1', 'e3']);
  });

  test('forgets a partition after a redaction, on demand, and all of them on reassignment', () => {
    const memory = new PartitionMemory();
    for (const partition of [0, 1, 2]) memory.remember(partition, 1, nothing, wrote({}));
    memory.remember(0, 2, nothing, { ...wrote({}), redaction: {} as DecidedBatch['redaction'] });
    memory.forget(1);
    expect([0, 1, 2].map((partition) => memory.nextOffset(partition))).toEqual([undefined, undefined, 1]);
    memory.forgetAll();
    expect(memory.nextOffset(2)).toBeUndefined();
  });
});

describe('what a batch was decided on', () => {
  test('each referenced timeline and event as the state had it, absent (null) when it had not; commands undecided but those decided', () => {
    const state = { ...nothing, timelines: [timeline('a', 3)], events: [event('e', 2)] };
    expect(decidedOn(ids(['a', 'b'], ['e', 'f'], ['c1', 'c2']), state, new Set(['c2']))).toEqual({
      undecided: ['c1'],
      timelines: [
        { timelineId: 'a', version: 3 },
        { timelineId: 'b', version: null },
      ],
      events: [
        { eventId: 'e', revision: 2 },
        { eventId: 'f', revision: null },
      ],
    });
  });

  test("a redaction's targets, which no command names, are part of it", () => {
    const targets = { events: [event('carrying', 4)], revisions: [], outbox: [] };
    const state = { ...nothing, timelines: [timeline('t', 7)], redactionTargets: targets };
    expect(decidedOn(ids([]), state, new Set())).toMatchObject({
      timelines: [{ timelineId: 't', version: 7 }],
      events: [{ eventId: 'carrying', revision: 4 }],
    });
  });
});
