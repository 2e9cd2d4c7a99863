import { describe, expect, it } from '@jest/globals';
import { rateLimitCategoryOf } from './rate-limit.guard';

const request = (method: string, route: string, query: Record<string, unknown> = {}, accept?: string) => ({ method, route, query, accept });

describe('rateLimitCategoryOf', () => {
  it('counts every POST and PUT under /v1 as a write', () => {
    expect(rateLimitCategoryOf(request('POST', '/v1/timelines/:timelineId/events'))).toBe('writes');
    expect(rateLimitCategoryOf(request('PUT', '/v1/timelines/:timelineId'))).toBe('writes');
    expect(rateLimitCategoryOf(request('POST', '/v1/events/:eventId/retraction'))).toBe('writes');
  });

  it('counts text searches, actors across timelines, histograms and exports as expensive queries', () => {
    expect(rateLimitCategoryOf(request('GET', '/v1/timelines/:timelineId/events', { q: 'treaty' }))).toBe('queries');
    expect(rateLimitCategoryOf(request('GET', '/v1/events', { actor: 'nato' }))).toBe('queries');
    expect(rateLimitCategoryOf(request('GET', '/v1/timelines/:timelineId/histogram', { by: 'year' }))).toBe('queries');
    expect(rateLimitCategoryOf(request('GET', '/v1/timelines/:timelineId/events', { format: 'timelinejs' }))).toBe('queries');
    expect(rateLimitCategoryOf(request('GET', '/v1/timelines/:timelineId/events', {}, 'application/vnd.timelinejs+json'))).toBe('queries');
  });

  it('leaves reads of one timeline, single resources, the stream and everything outside /v1 unlimited', () => {
    expect(rateLimitCategoryOf(request('GET', '/v1/timelines/:timelineId/events', { actor: 'nato', from: '1990' }))).toBeNull();
    expect(rateLimitCategoryOf(request('GET', '/v1/events', { from: '1990' }))).toBeNull();
    expect(rateLimitCategoryOf(request('GET', '/v1/events/:eventId'))).toBeNull();
    expect(rateLimitCategoryOf(request('GET', '/v1/stream'))).toBeNull();
    expect(rateLimitCategoryOf(request('GET', '/health/ready'))).toBeNull();
  });
});
