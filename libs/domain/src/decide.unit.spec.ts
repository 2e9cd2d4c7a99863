import { describe, expect, test } from '@jest/globals';
import type { TimelineCommand } from './commands';
import { decide, type Decision } from './decide';
import type { EventData } from './event-data';
import { emptyView, evolve, type TimelineChange, type TimelineView } from './timeline';

const TIMELINE = 'japan-nato';
const EVENT = '7d1c0e6e-5c4b-4c53-9a55-3f7c3f2a0001';
const OTHER_EVENT = '7d1c0e6e-5c4b-4c53-9a55-3f7c3f2a0002';
const T0 = '2023-07-10T09:00:00.000Z';
const T1 = '2023-07-11T09:00:00.000Z';
const T2 = '2023-07-13T09:00:00.000Z';
let commandCounter = 0;
const nextCommandId = () => `00000000-0000-4000-8000-${String(++commandCounter).padStart(12, '0')}`;

const itpp: EventData = {
  kind: 'programme.adopted',
  title: 'Giappone e NATO adottano il programma di partenariato su misura',
  summary: 'Kishida e Stoltenberg adottano a Vilnius il programma.',
  language: 'it',
  validTime: '2023-07-12',
  actors: [{ id: 'jp', name: 'Giappone', role: 'party' }],
  places: [{ name: 'Vilnius', country: 'LT' }],
  topics: ['cyber'],
  sources: [],
  factuality: 'expected',
  relations: [],
  translations: {},
};

const createTimeline = (overrides: Partial<Extract<TimelineCommand, { type: 'CreateTimeline' }>> = {}): TimelineCommand => ({
  type: 'CreateTimeline',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  timeline: { title: 'Giappone e NATO', description: '', defaultLanguage: 'it' },
  ...overrides,
});
const recordEvent = (overrides: Partial<Extract<TimelineCommand, { type: 'RecordEvent' }>> = {}): TimelineCommand => ({
  type: 'RecordEvent',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  eventId: EVENT,
  event: itpp,
  ...overrides,
});
const reviseEvent = (overrides: Partial<Extract<TimelineCommand, { type: 'ReviseEvent' }>> = {}): TimelineCommand => ({
  type: 'ReviseEvent',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  eventId: EVENT,
  changes: { factuality: 'confirmed' },
  reason: 'Adopted on 12 July 2023 (MOFA)',
  ...overrides,
});
const retractEvent = (overrides: Partial<Extract<TimelineCommand, { type: 'RetractEvent' }>> = {}): TimelineCommand => ({
  type: 'RetractEvent',
  commandId: nextCommandId(),
  timelineId: TIMELINE,
  eventId: EVENT,
  reason: 'Rests on anonymous sources only',
  ...overrides,
});

/** given(commands already accepted).when(command).then(expected decision) */
function given(...history: TimelineCommand[]) {
  let view: TimelineView = emptyView();
  for (const command of history) {
    const decision = decide(command, view, { knownAt: T0 });
    if (decision.outcome !== 'accepted') throw new Error(`history command ${command.type} was ${decision.reason}`);
    view = decision.changes.reduce(evolve, view);
  }
  return {
    view,
    when(command: TimelineCommand, knownAt = T1) {
      const decision = decide(command, view, { knownAt });
      return {
        decision,
        thenAccepted(...expected: Partial<TimelineChange>[]): TimelineChange[] {
          expect(decision.outcome).toBe('accepted');
          const changes = (decision as Extract<Decision, { outcome: 'accepted' }>).changes;
          expect(changes).toHaveLength(expected.length);
          expected.forEach((change, index) => expect(changes[index]).toMatchObject(change));
          return [...changes];
        },
        thenRejected(reason: string) {
          expect(decision).toMatchObject({ outcome: 'rejected', reason });
        },
      };
    },
  };
}

describe('decide', () => {
  describe('when the timeline does not exist', () => {
    test('CreateTimeline creates it at version 1', () => {
      given()
        .when(createTimeline())
        .thenAccepted({ type: 'TimelineCreated', timelineId: TIMELINE, version: 1, knownAt: T1 });
    });
    test('CreateTimeline with an expected version other than 0 is a version conflict', () => {
      given().when(createTimeline({ expectedVersion: 3 })).thenRejected('version_conflict');
    });
    test('RecordEvent is rejected: timeline not found', () => {
      given().when(recordEvent()).thenRejected('timeline_not_found');
    });
    test('ReviseEvent is rejected: timeline not found', () => {
      given().when(reviseEvent()).thenRejected('timeline_not_found');
    });
    test('RetractEvent is rejected: timeline not found', () => {
      given().when(retractEvent()).thenRejected('timeline_not_found');
    });
  });

  describe('when the timeline exists without the event', () => {
    const existing = () => given(createTimeline());
    test('CreateTimeline with the same content is accepted with no change', () => {
      existing().when(createTimeline()).thenAccepted();
    });
    test('CreateTimeline with other content is rejected: timeline exists', () => {
      existing()
        .when(createTimeline({ timeline: { title: 'Other', description: '', defaultLanguage: 'en' } }))
        .thenRejected('timeline_exists');
    });
    test('RecordEvent records revision 1 and bumps the version', () => {
      const [change] = existing()
        .when(recordEvent())
        .thenAccepted({ type: 'EventRecorded', eventId: EVENT, revision: 1, version: 2, knownAt: T1 });
      expect(change).toMatchObject({ event: { ...itpp, revision: 1, retracted: false, recordedAt: T1, revisedAt: T1 } });
    });
    test('RecordEvent with a matching expected version is accepted', () => {
      existing().when(recordEvent({ expectedVersion: 1 })).thenAccepted({ type: 'EventRecorded', version: 2 });
    });
    test('RecordEvent with a stale expected version is a version conflict', () => {
      existing().when(recordEvent({ expectedVersion: 7 })).thenRejected('version_conflict');
    });
    test('ReviseEvent is rejected: event not found', () => {
      existing().when(reviseEvent()).thenRejected('event_not_found');
    });
    test('RetractEvent is rejected: event not found', () => {
      existing().when(retractEvent()).thenRejected('event_not_found');
    });
  });

  describe('when the event is recorded', () => {
    const recorded = () => given(createTimeline(), recordEvent());
    test('RecordEvent with the same event id is rejected: event exists', () => {
      recorded().when(recordEvent()).thenRejected('event_exists');
    });
    test('RecordEvent of another event is accepted', () => {
      recorded().when(recordEvent({ eventId: OTHER_EVENT })).thenAccepted({ type: 'EventRecorded', eventId: OTHER_EVENT, version: 3 });
    });
    test('ReviseEvent records the changed fields, their old values and the reason', () => {
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
    test('ReviseEvent that changes nothing is accepted with no change', () => {
      recorded().when(reviseEvent({ changes: { factuality: 'expected' } })).thenAccepted();
    });
    test('ReviseEvent with the current expected revision is accepted', () => {
      recorded().when(reviseEvent({ expectedRevision: 1 })).thenAccepted({ type: 'EventRevised', revision: 2 });
    });
    test('ReviseEvent with a stale expected revision is a revision conflict', () => {
      recorded().when(reviseEvent({ expectedRevision: 2 })).thenRejected('revision_conflict');
    });
    test('ReviseEvent with a stale expected version is a version conflict', () => {
      recorded().when(reviseEvent({ expectedVersion: 1 })).thenRejected('version_conflict');
    });
    test('ReviseEvent naming another timeline is rejected: event not found', () => {
      given(createTimeline(), recordEvent(), createTimeline({ timelineId: 'other' }))
        .when(reviseEvent({ timelineId: 'other' }))
        .thenRejected('event_not_found');
    });
    test('RetractEvent retracts it as a new revision with its reason', () => {
      const [change] = recorded()
        .when(retractEvent({ expectedRevision: 1 }))
        .thenAccepted({ type: 'EventRetracted', revision: 2, version: 3, reason: 'Rests on anonymous sources only' });
      expect(change).toMatchObject({ event: { retracted: true, retractionReason: 'Rests on anonymous sources only' } });
    });
    test('RetractEvent with a stale expected revision is a revision conflict', () => {
      recorded().when(retractEvent({ expectedRevision: 5 })).thenRejected('revision_conflict');
    });
  });

  describe('when the event is revised', () => {
    const revised = () => given(createTimeline(), recordEvent(), reviseEvent());
    test('ReviseEvent again moves to revision 3', () => {
      revised()
        .when(reviseEvent({ changes: { validTime: '2023-07-11/2023-07-12' }, expectedRevision: 2 }))
        .thenAccepted({ type: 'EventRevised', revision: 3, changed: { validTime: '2023-07-11/2023-07-12' } });
    });
    test('RetractEvent retracts revision 2 into revision 3', () => {
      revised().when(retractEvent()).thenAccepted({ type: 'EventRetracted', revision: 3 });
    });
  });

  describe('when the event is retracted', () => {
    const retracted = () => given(createTimeline(), recordEvent(), retractEvent());
    test('ReviseEvent is rejected: event retracted', () => {
      retracted().when(reviseEvent()).thenRejected('event_retracted');
    });
    test('RetractEvent again is rejected: event retracted', () => {
      retracted().when(retractEvent()).thenRejected('event_retracted');
    });
    test('RecordEvent with its id is rejected: event exists', () => {
      retracted().when(recordEvent()).thenRejected('event_exists');
    });
  });

  describe('evolve', () => {
    test('counts live events: recorded adds one, retracted takes one away', () => {
      const { view } = given(createTimeline(), recordEvent(), recordEvent({ eventId: OTHER_EVENT }), retractEvent());
      expect(view.timeline).toMatchObject({ version: 4, eventCount: 1 });
    });
  });
});
