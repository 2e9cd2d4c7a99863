import { describe, expect, test } from '@jest/globals';
import { checkAccess, grantFromClaims } from './grant';

describe('grantFromClaims', () => {
  test('given a space-separated scope claim, when read, then the known scopes are granted and unknown ones ignored', () => {
    const grant = grantFromClaims({ sub: 'importer', scope: 'timelines:read ops profile' });
    expect([...grant.scopes]).toEqual(['timelines:read', 'ops']);
    expect(grant.subject).toBe('importer');
    expect(grant.timelines).toBeNull();
  });

  test('given an scp array, when read, then its scopes are granted', () => {
    expect([...grantFromClaims({ scp: ['timelines:write'] }).scopes]).toEqual(['timelines:write']);
  });

  test('given a timelines claim, when read, then the timeline scopes are narrowed to it; a claim of the wrong shape narrows to nothing', () => {
    expect([...grantFromClaims({ scope: 'timelines:read', timelines: ['japan-nato'] }).timelines!]).toEqual(['japan-nato']);
    expect(grantFromClaims({ scope: 'timelines:read', timelines: 'japan-nato' }).timelines!.size).toBe(0);
  });
});

describe('checkAccess', () => {
  const everywhere = grantFromClaims({ scope: 'timelines:read timelines:write' });
  const narrowed = grantFromClaims({ scope: 'timelines:read ops', timelines: ['japan-nato'] });

  describe('given a grant over every timeline', () => {
    test('when it asks for a scope it holds, then it is allowed, across timelines too', () => {
      expect(checkAccess(everywhere, 'timelines:write', { timelines: ['any'] })).toEqual({ allowed: true });
      expect(checkAccess(everywhere, 'timelines:read', 'all')).toEqual({ allowed: true });
    });

    test('when it asks for a scope it lacks, then it is refused for insufficient scope', () => {
      expect(checkAccess(everywhere, 'ops', 'all')).toEqual({ allowed: false, reason: 'insufficient_scope' });
    });
  });

  describe('given a grant narrowed to one timeline', () => {
    test('when the request stays on that timeline, then it is allowed', () => {
      expect(checkAccess(narrowed, 'timelines:read', { timelines: ['japan-nato'] })).toEqual({ allowed: true });
    });

    test('when the request reaches another timeline, or is not confined to timelines, then it is refused', () => {
      expect(checkAccess(narrowed, 'timelines:read', { timelines: ['other'] })).toEqual({ allowed: false, reason: 'outside_timelines' });
      expect(checkAccess(narrowed, 'timelines:read', 'all')).toEqual({ allowed: false, reason: 'outside_timelines' });
    });

    test('when it asks for ops, then the narrowing does not apply', () => {
      expect(checkAccess(narrowed, 'ops', 'all')).toEqual({ allowed: true });
    });

    test('when it asks for a timeline scope it lacks, then insufficient scope wins', () => {
      expect(checkAccess(narrowed, 'timelines:write', { timelines: ['japan-nato'] })).toEqual({ allowed: false, reason: 'insufficient_scope' });
    });
  });
});
