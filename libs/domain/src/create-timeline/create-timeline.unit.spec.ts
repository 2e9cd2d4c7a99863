import { describe, test } from '@jest/globals';
import { createTimeline, given, T1, TIMELINE } from '../given-when-then';

describe('CreateTimeline', () => {
  describe('when the timeline does not exist', () => {
    test('creates it at version 1', () => {
      given().when(createTimeline()).thenAccepted({ type: 'TimelineCreated', timelineId: TIMELINE, version: 1, knownAt: T1 });
    });
    test('with an expected version other than 0 is a version conflict', () => {
      given()
        .when(createTimeline({ expectedVersion: 3 }))
        .thenRejected('version_conflict');
    });
  });

  describe('when the timeline exists', () => {
    const existing = () => given(createTimeline());
    test('with the same content is accepted with no change', () => {
      existing().when(createTimeline()).thenAccepted();
    });
    test('with other content is rejected: timeline exists', () => {
      existing()
        .when(createTimeline({ timeline: { title: 'Other', description: '', defaultLanguage: 'en' } }))
        .thenRejected('timeline_exists');
    });
  });
});
