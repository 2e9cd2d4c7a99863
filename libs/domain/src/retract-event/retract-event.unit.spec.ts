import { describe, expect, test } from '@jest/globals';
import { createTimeline, given, recordEvent, retractEvent, reviseEvent } from '../given-when-then';

describe('RetractEvent', () => {
  describe('when the timeline does not exist', () => {
    test('is rejected: timeline not found', () => {
      given().when(retractEvent()).thenRejected('timeline_not_found');
    });
  });

  describe('when the timeline exists without the event', () => {
    test('is rejected: event not found', () => {
      given(createTimeline()).when(retractEvent()).thenRejected('event_not_found');
    });
  });

  describe('when the event is recorded', () => {
    const recorded = () => given(createTimeline(), recordEvent());
    test('retracts it as a new revision with its reason', () => {
      const [change] = recorded()
        .when(retractEvent({ expectedRevision: 1 }))
        .thenAccepted({ type: 'EventRetracted', revision: 2, version: 3, reason: 'Rests on anonymous sources only' });
      expect(change).toMatchObject({ event: { retracted: true, retractionReason: 'Rests on anonymous sources only' } });
    });
    test('with a stale expected revision is a revision conflict', () => {
      recorded()
        .when(retractEvent({ expectedRevision: 5 }))
        .thenRejected('revision_conflict');
    });
  });

  describe('when the event is revised', () => {
    test('retracts revision 2 into revision 3', () => {
      given(createTimeline(), recordEvent(), reviseEvent()).when(retractEvent()).thenAccepted({ type: 'EventRetracted', revision: 3 });
    });
  });

  describe('when the event is retracted', () => {
    test('again is rejected: event retracted', () => {
      given(createTimeline(), recordEvent(), retractEvent()).when(retractEvent()).thenRejected('event_retracted');
    });
  });
});
