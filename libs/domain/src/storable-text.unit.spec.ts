import { describe, expect, test } from '@jest/globals';
import { eventDataSchema } from './event-data';
import { isStorableText, toStorableText } from './storable-text';

describe('storable text', () => {
  test.each([
    ['plain text', 'ufficio di collegamento', true],
    ['a surrogate pair (an emoji)', 'summit \ud83c\udf0f', true],
    ['other control characters, stored as they are', 'tab\tline\nbell\u0007', true],
    ['NUL', 'bad \u0000 title', false],
    ['a lone high surrogate', 'x\ud800', false],
    ['a lone low surrogate', '\udc00x', false],
    ['a pair in the wrong order', '\ude00\ud83d', false],
  ])('%s: %p', (_name, text, storable) => {
    expect(isStorableText(text)).toBe(storable);
  });

  test('toStorableText replaces only what the database refuses', () => {
    expect(toStorableText('a\u0000\ud800\ud83c\udf0f')).toBe('a\ufffd\ufffd\ud83c\udf0f');
  });

  test('every free-text field of an event refuses it, naming the field', () => {
    const event = { kind: 'summit.attended', title: 'Vertice', language: 'it', validTime: '2023', factuality: 'confirmed' };
    const fieldsOf = (value: unknown) => eventDataSchema.safeParse(value).error?.issues.map((issue) => issue.path.join('.'));
    expect(fieldsOf({ ...event, title: '\u0000' })).toEqual(['title']);
    expect(fieldsOf({ ...event, summary: '\ud800' })).toEqual(['summary']);
    expect(fieldsOf({ ...event, sources: [{ url: 'https://a.org/\u0000', publisher: 'P', language: 'it' }] })).toEqual(['sources.0.url']);
    expect(fieldsOf({ ...event, places: [{ name: '\udfff' }] })).toEqual(['places.0.name']);
    expect(fieldsOf({ ...event, translations: { en: { title: 'T', summary: '\u0000' } } })).toEqual(['translations.en.summary']);
  });
});
