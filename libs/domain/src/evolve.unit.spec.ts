import { describe, expect, test } from '@jest/globals';
import { createTimeline, given, OTHER_EVENT, recordEvent, retractEvent, TIMELINE } from './given-when-then';

describe('evolve', () => {
  test('counts live events: recorded adds one, retracted takes one away', () => {
    const { state } = given(createTimeline(), recordEvent(), recordEvent({ eventId: OTHER_EVENT }), retractEvent());
    expect(state.timelines.get(TIMELINE)).toMatchObject({ version: 4, eventCount: 1 });
  });
});
