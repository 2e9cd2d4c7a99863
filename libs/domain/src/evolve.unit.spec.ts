import { describe, expect, test } from '@jest/globals';
import { createTimeline, given, OTHER_EVENT, recordEvent, retractEvent } from './given-when-then';

describe('evolve', () => {
  test('counts live events: recorded adds one, retracted takes one away', () => {
    const { view } = given(createTimeline(), recordEvent(), recordEvent({ eventId: OTHER_EVENT }), retractEvent());
    expect(view.timeline).toMatchObject({ version: 4, eventCount: 1 });
  });
});
