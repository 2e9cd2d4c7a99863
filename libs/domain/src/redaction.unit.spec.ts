import { describe, expect, test } from '@jest/globals';
import { eventDataSchema } from './event-data';
import { createTimeline, given, itpp, KISHIDA, recordEvent, reviseEvent } from './given-when-then';
import { redactionHash, redactionKeysOf, redactJson, stripRedacted, type RedactionKey } from './redaction';

const SOURCE = { url: 'https://example.org/kishida-vilnius', publisher: 'Example', language: 'en' };
const withKishida = eventDataSchema.parse({ ...itpp, validTime: '2023-07-12', actors: [...itpp.actors, KISHIDA], sources: [SOURCE] });
const redactActor: RedactionKey = { kind: 'actor', valueHash: redactionHash(KISHIDA.id) };
const redactSource: RedactionKey = { kind: 'source', valueHash: redactionHash(SOURCE.url) };

describe('redactionHash', () => {
  test('is the SHA-256 of the trimmed value in hex', () => {
    expect(redactionHash(' fumio-kishida ')).toBe(redactionHash('fumio-kishida'));
    expect(redactionHash('fumio-kishida')).toMatch(/^[0-9a-f]{64}$/);
    expect(redactionHash('fumio-kishida')).not.toBe(redactionHash('jp'));
  });
});

describe('redactionKeysOf', () => {
  test('names every actor id and source URL of event fields', () => {
    expect(redactionKeysOf(withKishida)).toEqual([{ kind: 'actor', valueHash: redactionHash('jp') }, redactActor, redactSource]);
    expect(redactionKeysOf({})).toEqual([]);
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

describe('stripRedacted', () => {
  test('RecordEvent loses the redacted actor and source', () => {
    const command = stripRedacted(recordEvent({ event: withKishida }), [redactActor, redactSource]);
    expect(JSON.stringify(command)).not.toContain('fumio-kishida');
    expect(JSON.stringify(command)).not.toContain(SOURCE.url);
  });
  test('ReviseEvent changes lose the redacted actor', () => {
    const command = stripRedacted(reviseEvent({ changes: { actors: [KISHIDA] } }), [redactActor]);
    expect(command).toMatchObject({ changes: { actors: [] } });
  });
  test('a command without the value is the same command', () => {
    const command = recordEvent();
    expect(stripRedacted(command, [redactActor])).toBe(command);
  });
});
