import { describe, expect, test } from '@jest/globals';
import { eventSearchParamsSchema } from './event-search.params';
import { ifNoneMatchNames, timelinePageEtag, type TimelinePageRequest } from './page-etag';

const request = (query: Record<string, unknown> = {}, more: Partial<TimelinePageRequest> = {}): TimelinePageRequest => ({
  timelineId: 'japan-nato',
  params: eventSearchParamsSchema.parse(query),
  timelineJs: false,
  languages: [],
  ...more,
});
const validator = { version: 8, redactions: 0 };

describe('the ETag of a timeline page', () => {
  test('the same request on the same timeline state: the same tag', () => {
    expect(timelinePageEtag(request({ limit: '10' }), validator)).toBe(timelinePageEtag(request({ limit: '10' }), { ...validator }));
  });

  test('another version of the timeline, another redaction: another tag', () => {
    const tag = timelinePageEtag(request(), validator);
    expect(timelinePageEtag(request(), { version: 9, redactions: 0 })).not.toBe(tag);
    expect(timelinePageEtag(request(), { version: 8, redactions: 1 })).not.toBe(tag);
  });

  test('another query, cursor, timeline or representation: another tag', () => {
    const tags = [
      timelinePageEtag(request(), validator),
      timelinePageEtag(request({ limit: '10' }), validator),
      timelinePageEtag(request({ q: 'vertice' }), validator),
      timelinePageEtag(request({ cursor: 'abc' }), validator),
      timelinePageEtag(request({}, { timelineId: 'other' }), validator),
      timelinePageEtag(request({}, { timelineJs: true }), validator),
      timelinePageEtag(request({}, { languages: ['en'] }), validator),
    ];
    expect(new Set(tags).size).toBe(tags.length);
  });

  test('strong when pinned to a known time (knownAt or a cursor), weak when read at now', () => {
    expect(timelinePageEtag(request({ knownAt: '2025-01-01T00:00:00Z' }), validator)).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(timelinePageEtag(request({ cursor: 'abc' }), validator)).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(timelinePageEtag(request(), validator)).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
  });
});

describe('If-None-Match', () => {
  const tag = '"abc"';
  test('names the tag alone, in a list, weakly, or as *', () => {
    expect(ifNoneMatchNames('"abc"', tag)).toBe(true);
    expect(ifNoneMatchNames('"x", "abc"', tag)).toBe(true);
    expect(ifNoneMatchNames('W/"abc"', tag)).toBe(true);
    expect(ifNoneMatchNames('"abc"', 'W/"abc"')).toBe(true);
    expect(ifNoneMatchNames(' * ', tag)).toBe(true);
  });

  test('does not name another tag, an unquoted one or a part of one', () => {
    expect(ifNoneMatchNames('"abcd"', tag)).toBe(false);
    expect(ifNoneMatchNames('abc', tag)).toBe(false);
    expect(ifNoneMatchNames('"ab"', tag)).toBe(false);
    expect(ifNoneMatchNames('', tag)).toBe(false);
  });
});
