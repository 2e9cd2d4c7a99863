import { describe, expect, test } from '@jest/globals';
import { createTimeline, given, itpp, recordEvent, retractEvent, reviseEvent, T0, T2 } from '../given-when-then';
import { ValidTime } from '../valid-time';

describe('ReviseEvent', () => {
  describe('when the timeline does not exist', () => {
    test('is rejected: timeline not found', () => {
      given().when(reviseEvent()).thenRejected('timeline_not_found');
    });
  });

  describe('when the timeline exists without the event', () => {
    test('is rejected: event not found', () => {
      given(createTimeline()).when(reviseEvent()).thenRejected('event_not_found');
    });
  });

  describe('when the event is recorded', () => {
    const recorded = () => given(createTimeline(), recordEvent());
    test('records the changed fields, their old values and the reason', () => {
      const [change] = recorded()
        .when(reviseEvent({ changes: { factuality: 'confirmed', title: itpp.title } }), T2)
        .thenAccepted({
          type: 'EventRevised',
          revision: 2,
          version: 3,
          reason: 'Adopted on 12 July 2023 (MOFA)',
          changed: { factuality: 'confirmed' },
          previous: { factuality: 'expected' },
        });
      expect(change).toMatchObject({ event: { factuality: 'confirmed', revision: 2, recordedAt: T0, revisedAt: T2 } });
    });
    test('that changes nothing is accepted with no change', () => {
      recorded()
        .when(reviseEvent({ changes: { factuality: 'expected' } }))
        .thenAccepted();
    });
    test('to the actors it has, their fields in another order, is accepted with no change', () => {
      recorded()
        .when(reviseEvent({ changes: { actors: [{ role: 'party', name: 'Giappone', id: 'jp' }] } }))
        .thenAccepted();
    });
    test('of one field of an actor revises the actors', () => {
      recorded()
        .when(reviseEvent({ changes: { actors: [{ id: 'jp', name: 'Giappone', role: 'host' }] } }))
        .thenAccepted({ type: 'EventRevised', changed: { actors: [{ id: 'jp', name: 'Giappone', role: 'host' }] }, previous: { actors: itpp.actors } });
    });
    test('to the valid time it has is accepted with no change', () => {
      recorded()
        .when(reviseEvent({ changes: { validTime: ValidTime.parse(itpp.validTime.text) } }))
        .thenAccepted();
    });
    test('with the current expected revision is accepted', () => {
      recorded()
        .when(reviseEvent({ expectedRevision: 1 }))
        .thenAccepted({ type: 'EventRevised', revision: 2 });
    });
    test('with a stale expected revision is a revision conflict', () => {
      recorded()
        .when(reviseEvent({ expectedRevision: 2 }))
        .thenRejected('revision_conflict');
    });
    test('with a stale expected version is a version conflict', () => {
      recorded()
        .when(reviseEvent({ expectedVersion: 1 }))
        .thenRejected('version_conflict');
    });
    test('naming another timeline is rejected: event not found', () => {
      given(createTimeline(), recordEvent(), createTimeline({ timelineId: 'other' }))
        .when(reviseEvent({ timelineId: 'other' }))
        .thenRejected('event_not_found');
    });
  });

  describe('when the event is revised', () => {
    test('again moves to revision 3', () => {
      given(createTimeline(), recordEvent(), reviseEvent())
        .when(reviseEvent({ changes: { validTime: ValidTime.parse('2023-07-11/2023-07-12') }, expectedRevision: 2 }))
        .thenAccepted({ type: 'EventRevised', revision: 3, changed: { validTime: ValidTime.parse('2023-07-11/2023-07-12') } });
    });
  });

  describe('when the event is retracted', () => {
    test('is rejected: event retracted', () => {
      given(createTimeline(), recordEvent(), retractEvent()).when(reviseEvent()).thenRejected('event_retracted');
    });
  });
});
