import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import { CursorSigner } from './cursor-signer';

const withSecret = (secret?: string) => new CursorSigner(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', ...(secret ? { CURSOR_SECRET: secret } : {}) }));

describe('CursorSigner', () => {
  const signer = withSecret('a'.repeat(32));

  test('gives back the payload of a cursor it signed', () => {
    const payload = { h: 'hash', k: '2026-12-01T00:00:00.000Z', a: { eventId: 'e', rank: 0.5 } };
    expect(signer.verify(signer.sign(payload))).toEqual({ payload });
  });

  test('refuses text it did not sign: unsigned, changed, cut, extended, or signed with another key', () => {
    const cursor = signer.sign({ h: 'hash' });
    const [body, mac] = cursor.split('.');
    const forgedBody = Buffer.from(JSON.stringify({ h: 'other' })).toString('base64url');
    for (const text of [body, `${forgedBody}.${mac}`, `${body}.`, `${body}.${mac.slice(1)}`, `${cursor}.x`, '', '.', withSecret('b'.repeat(32)).sign({ h: 'hash' })]) {
      expect({ text, verified: signer.verify(text) }).toEqual({ text, verified: null });
    }
  });

  test('instances with the same CURSOR_SECRET accept each other’s cursors (api instances behind one address)', () => {
    expect(withSecret('a'.repeat(32)).verify(signer.sign('timeline-1'))).toEqual({ payload: 'timeline-1' });
  });

  test('without CURSOR_SECRET every instance of one process shares a random key', () => {
    const first = withSecret();
    expect(withSecret().verify(first.sign('timeline-1'))).toEqual({ payload: 'timeline-1' });
    expect(signer.verify(first.sign('timeline-1'))).toBeNull();
  });

  test('a CURSOR_SECRET shorter than 32 characters stops the start', () => {
    expect(() => withSecret('short')).toThrow(/CURSOR_SECRET: must be at least 32 characters/);
  });
});
