import { describe, expect, test } from '@jest/globals';
import { createTimeline, EVENT, given, itpp, OTHER_EVENT, recordEvent, retractEvent, T1 } from '../given-when-then';

describe('RecordEvent', () => {
  describe('when the timeline does not exist', () => {
    test('is rejected: timeline not found', () => {
      given().when(recordEvent()).thenRejected('timeline_not_found');
    });
  });

  describe('when the timeline exists without the event', () => {
    const existing = () => given(createTimeline());
    test('records revision 1 and bumps the version', () => {
      const [change] = existing().when(recordEvent()).thenAccepted({ type: 'EventRecorded', eventId: EVENT, revision: 1, version: 2, knownAt: T1 });
      expect(change).toMatchObject({ event: { ...itpp, revision: 1, retracted: false, recordedAt: T1, revisedAt: T1 } });
    });
    test('with a matching expected version is accepted', () => {
      existing()
        .when(recordEvent({ expectedVersion: 1 }))
        .thenAccepted({ type: 'EventRecorded', version: 2 });
    });
    test('with a stale expected version is a version conflict', () => {
      existing()
        .when(recordEvent({ expectedVersion: 7 }))
        .thenRejected('version_conflict');
    });
  });

  describe('when the event is recorded', () => {
    const recorded = () => given(createTimeline(), recordEvent());
    test('with the same event id is rejected: event exists', () => {
      recorded().when(recordEvent()).thenRejected('event_exists');
    });
    test('of another event is accepted', () => {
      recorded()
        .when(recordEvent({ eventId: OTHER_EVENT }))
        .thenAccepted({ type: 'EventRecorded', eventId: OTHER_EVENT, version: 3 });
    });
  });

  describe('when the event is retracted', () => {
    test('with its id is rejected: event exists', () => {
      given(createTimeline(), recordEvent(), retractEvent()).when(recordEvent()).thenRejected('event_exists');
    });
  });
});
