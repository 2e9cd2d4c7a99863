import { describe, expect, test } from '@jest/globals';
import { decide } from '../decide';
import { eventDataSchema } from '../event-data';
import { evolve } from '../evolve';
import { createTimeline, EVENT, given, itpp, OTHER_EVENT, recordEvent, reviseEvent, T1, TIMELINE } from '../given-when-then';
import type { EventState, TimelineState } from '../timeline';
import { decideRedact, redactionHash, redactJson, stripRedacted, type Redact, type RedactionKey } from './redact';

const KISHIDA = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'signatory' };
const SOURCE = { url: 'https://example.org/kishida-vilnius', publisher: 'Example', language: 'en' };
const withKishida = eventDataSchema.parse({ ...itpp, validTime: '2023-07-12', actors: [...itpp.actors, KISHIDA], sources: [SOURCE] });
const redactActor: RedactionKey = { kind: 'actor', valueHash: redactionHash('fumio-kishida') };
const redactSource: RedactionKey = { kind: 'source', valueHash: redactionHash(SOURCE.url) };

const redact = (overrides: Partial<Redact> = {}): Redact => ({
  type: 'Redact',
  commandId: '00000000-0000-4000-8000-00000000fe01',
  redactionId: '00000000-0000-4000-8000-00000000ee01',
  kind: 'actor',
  valueHash: redactActor.valueHash,
  partitions: 2,
  ...overrides,
});

/** The view a projector loads for a redaction: the events carrying the value and their timelines. */
function redactionViewOf(...histories: ReturnType<typeof given>[]) {
  const timelines = new Map<string, TimelineState>();
  const events: EventState[] = [];
  for (const { view } of histories) {
    if (view.timeline) timelines.set(view.timeline.timelineId, view.timeline);
    events.push(...view.events.values());
  }
  return { timelines, events };
}

describe('redactionHash', () => {
  test('is the SHA-256 of the trimmed value in hex', () => {
    expect(redactionHash(' fumio-kishida ')).toBe(redactionHash('fumio-kishida'));
    expect(redactionHash('fumio-kishida')).toMatch(/^[0-9a-f]{64}$/);
    expect(redactionHash('fumio-kishida')).not.toBe(redactionHash('jp'));
  });
});

describe('Redact', () => {
  describe('when no event of the partition carries the value', () => {
    test('is accepted with no change', () => {
      const decision = decideRedact(redact(), { timelines: new Map(), events: [] }, { knownAt: T1 });
      expect(decision).toEqual({ outcome: 'accepted', changes: [] });
    });
  });

  describe('when events of two timelines carry the actor', () => {
    const first = given(createTimeline(), recordEvent({ event: withKishida }), recordEvent({ eventId: OTHER_EVENT, event: withKishida }));
    const second = given(createTimeline({ timelineId: 'nato-summits' }), recordEvent({ timelineId: 'nato-summits', event: withKishida }));
    test('gives one RedactionApplied per timeline, in timeline id order, naming its events and its next version', () => {
      const decision = decideRedact(redact(), redactionViewOf(second, first), { knownAt: T1 });
      expect(decision).toEqual({
        outcome: 'accepted',
        changes: [
          expect.objectContaining({ type: 'RedactionApplied', timelineId: TIMELINE, version: 4, eventIds: [EVENT, OTHER_EVENT].sort(), knownAt: T1 }),
          expect.objectContaining({ type: 'RedactionApplied', timelineId: 'nato-summits', version: 3, eventIds: [EVENT] }),
        ],
      });
      expect(JSON.stringify(decision)).not.toContain('fumio-kishida');
    });
    test('evolving the change removes the actor from the events and keeps their revision', () => {
      const decision = decideRedact(redact(), redactionViewOf(first), { knownAt: T1 });
      if (decision.outcome !== 'accepted') throw new Error('rejected');
      const after = decision.changes.reduce(evolve, first.view);
      const event = after.events.get(EVENT)!;
      expect(event.actors).toEqual(itpp.actors);
      expect(event.revision).toBe(1);
      expect(after.timeline?.version).toBe(4);
    });
  });
});

describe('redactJson', () => {
  test('removes the actor from a state, and from the changed and previous fields of a revision in an outbox payload', () => {
    const revised = given(createTimeline(), recordEvent({ event: withKishida })).when(reviseEvent({ changes: { actors: itpp.actors } }));
    const [change] = revised.thenAccepted({ type: 'EventRevised' });
    const redacted = redactJson(JSON.parse(JSON.stringify(change)), [redactActor]);
    expect(JSON.stringify(redacted)).not.toContain('fumio-kishida');
    expect(redacted.previous.actors).toEqual(itpp.actors);
  });
  test('removes a source by its URL and leaves the actors', () => {
    const redacted = redactJson({ state: withKishida }, [redactSource]);
    expect(redacted.state.sources).toEqual([]);
    expect(redacted.state.actors).toEqual(withKishida.actors);
  });
  test('returns the same value when nothing matches', () => {
    const state = { actors: itpp.actors, sources: [], title: 'x' };
    expect(redactJson(state, [redactActor, redactSource])).toBe(state);
  });
});

describe('stripRedacted: a later command of a partition that recorded the redaction', () => {
  test('RecordEvent is decided without the redacted actor and source', () => {
    const command = stripRedacted(recordEvent({ event: withKishida }), [redactActor, redactSource]);
    const decision = given(createTimeline()).when(command);
    const [change] = decision.thenAccepted({ type: 'EventRecorded' });
    expect(JSON.stringify(change)).not.toContain('fumio-kishida');
    expect(JSON.stringify(change)).not.toContain(SOURCE.url);
  });
  test('ReviseEvent changes lose the redacted actor', () => {
    const command = stripRedacted(reviseEvent({ changes: { actors: [KISHIDA] } }), [redactActor]);
    expect(command).toMatchObject({ changes: { actors: [] } });
  });
  test('a command without the value is the same command', () => {
    const command = recordEvent();
    expect(stripRedacted(command, [redactActor])).toBe(command);
  });
  test('decide is unchanged for commands that were stripped of nothing', () => {
    const command = recordEvent();
    expect(decide(stripRedacted(command, [redactActor]), given(createTimeline()).view, { knownAt: T1 })).toEqual(
      decide(command, given(createTimeline()).view, { knownAt: T1 }),
    );
  });
});
