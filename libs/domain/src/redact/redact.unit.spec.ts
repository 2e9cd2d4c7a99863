import { describe, expect, test } from '@jest/globals';
import { eventDataSchema } from '../event-data';
import { createTimeline, EVENT, given, itpp, KISHIDA, OTHER_EVENT, recordEvent, redact, reviseEvent, T1, TIMELINE } from '../given-when-then';
import { redactionHash } from '../redaction';

const SOURCE = { url: 'https://example.org/kishida-vilnius', publisher: 'Example', language: 'en' };
const withKishida = eventDataSchema.parse({ ...itpp, validTime: '2023-07-12', actors: [...itpp.actors, KISHIDA], sources: [SOURCE] });
const OTHER_TIMELINE = 'nato-summits';
const actorRedacted = { type: 'RedactionRecorded', kind: 'actor', valueHash: redactionHash(KISHIDA.id) } as const;

describe('Redact', () => {
  describe('when no event of the partition carries the value', () => {
    test('records the redaction and changes no timeline', () => {
      given(createTimeline(), recordEvent())
        .when(redact())
        .thenAccepted({ ...actorRedacted, eventIds: [], knownAt: T1 });
    });
  });

  describe('when events of two timelines carry the actor', () => {
    const carrying = () =>
      given(
        createTimeline({ timelineId: OTHER_TIMELINE }),
        recordEvent({ timelineId: OTHER_TIMELINE, eventId: OTHER_EVENT, event: withKishida }),
        createTimeline(),
        recordEvent({ event: withKishida }),
      );
    test('gives one RedactionApplied per timeline, in timeline id order, naming its events and its next version, then records it', () => {
      const changes = carrying()
        .when(redact())
        .thenAccepted(
          { type: 'RedactionApplied', timelineId: TIMELINE, version: 3, eventIds: [EVENT], knownAt: T1 },
          { type: 'RedactionApplied', timelineId: OTHER_TIMELINE, version: 3, eventIds: [OTHER_EVENT] },
          { ...actorRedacted, eventIds: [EVENT, OTHER_EVENT].sort() },
        );
      expect(JSON.stringify(changes)).not.toContain(KISHIDA.id);
    });
    test('evolving the changes removes the actor from the events, keeps their revision and moves the versions on', () => {
      const after = carrying().when(redact()).after();
      expect(after.events.get(EVENT)).toMatchObject({ actors: itpp.actors, sources: [SOURCE], revision: 1 });
      expect(after.events.get(OTHER_EVENT)?.actors).toEqual(itpp.actors);
      expect(after.timelines.get(TIMELINE)?.version).toBe(3);
    });
    test('of the source, removes the source and leaves the actor', () => {
      const after = carrying()
        .when(redact({ kind: 'source', valueHash: redactionHash(SOURCE.url) }))
        .after();
      expect(after.events.get(EVENT)).toMatchObject({ actors: withKishida.actors, sources: [] });
    });
  });

  describe('when a revision removed the actor from the event', () => {
    test('still rewrites the event: an earlier revision carries it', () => {
      given(createTimeline(), recordEvent({ event: withKishida }), reviseEvent({ changes: { actors: itpp.actors } }))
        .when(redact())
        .thenAccepted({ type: 'RedactionApplied', timelineId: TIMELINE, version: 4, eventIds: [EVENT] }, { ...actorRedacted, eventIds: [EVENT] });
    });
  });

  describe('when the partition redacted the actor', () => {
    const redacted = () => given(createTimeline(), recordEvent({ event: withKishida }), redact());
    test('a later RecordEvent is decided without the actor', () => {
      const [change] = redacted()
        .when(recordEvent({ eventId: OTHER_EVENT, event: withKishida }))
        .thenAccepted({ type: 'EventRecorded', eventId: OTHER_EVENT, version: 4 });
      expect(JSON.stringify(change)).not.toContain(KISHIDA.id);
    });
    test('a later ReviseEvent that names the actor changes nothing', () => {
      redacted()
        .when(reviseEvent({ changes: { actors: withKishida.actors } }))
        .thenAccepted();
    });
    test('the same redaction again finds no event that carries the actor', () => {
      redacted()
        .when(redact())
        .thenAccepted({ ...actorRedacted, eventIds: [] });
    });
  });
});
