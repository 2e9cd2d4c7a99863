import { describe, expect, test } from '@jest/globals';
import { redactBodySchema } from './redactions.schemas';

describe('the body of POST /v1/redactions', () => {
  test('takes an actor id or a source URL', () => {
    expect(redactBodySchema.parse({ actorId: 'fumio-kishida' })).toEqual({ actorId: 'fumio-kishida' });
    expect(redactBodySchema.parse({ sourceUrl: 'https://example.org/a?b=c' })).toEqual({ sourceUrl: 'https://example.org/a?b=c' });
  });
  test.each([
    ['both', { actorId: 'jp', sourceUrl: 'https://example.org/' }],
    ['neither', {}],
    ['an actor id an event could not carry', { actorId: 'Fumio Kishida' }],
    ['a URL an event could not carry', { sourceUrl: 'ftp://example.org/' }],
    ['another field', { actorId: 'jp', reason: 'court order' }],
  ])('refuses %s', (_, body) => {
    expect(redactBodySchema.safeParse(body).success).toBe(false);
  });
});
