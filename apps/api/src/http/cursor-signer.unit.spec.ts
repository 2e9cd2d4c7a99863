import { describe, expect, test } from '@jest/globals';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ConfigModule, TimelineConfig } from '@timeline/config';
import { CursorSigner } from './cursor-signer';
import { CursorsModule } from './cursors.module';

const withSecret = (secret?: string) =>
  new CursorSigner(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', ...(secret ? { CURSOR_SECRET: secret } : {}) }));

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
    for (const text of [
      body,
      `${forgedBody}.${mac}`,
      `${body}.`,
      `${body}.${mac.slice(1)}`,
      `${cursor}.x`,
      '',
      '.',
      withSecret('b'.repeat(32)).sign({ h: 'hash' }),
    ]) {
      expect({ text, verified: signer.verify(text) }).toEqual({ text, verified: null });
    }
  });

  test('instances with the same CURSOR_SECRET accept each other’s cursors (api instances behind one address)', () => {
    expect(withSecret('a'.repeat(32)).verify(signer.sign('timeline-1'))).toEqual({ payload: 'timeline-1' });
  });

  test('without CURSOR_SECRET a signer makes up its own random key', () => {
    const first = withSecret();
    expect(first.verify(first.sign('timeline-1'))).toEqual({ payload: 'timeline-1' });
    expect(withSecret().verify(first.sign('timeline-1'))).toBeNull();
    expect(signer.verify(first.sign('timeline-1'))).toBeNull();
  });

  test('CursorsModule gives every feature of one app the same signer, so its cursors hold across features', async () => {
    @Module({ imports: [CursorsModule] })
    class SearchFeature {}
    @Module({ imports: [CursorsModule] })
    class TimelinesFeature {}
    const app = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true' })), SearchFeature, TimelinesFeature],
    }).compile();
    const inSearch = app.select(SearchFeature).get(CursorSigner);
    const inTimelines = app.select(TimelinesFeature).get(CursorSigner);
    expect(inSearch).toBe(inTimelines);
    expect(inTimelines.verify(inSearch.sign('timeline-1'))).toEqual({ payload: 'timeline-1' });
    await app.close();
  });

  test('a CURSOR_SECRET shorter than 32 characters stops the start', () => {
    expect(() => withSecret('short')).toThrow(/CURSOR_SECRET: must be at least 32 characters/);
  });
});
