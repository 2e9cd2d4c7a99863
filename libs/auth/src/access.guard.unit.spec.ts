import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TimelineConfig } from '@timeline/config';
import { mintToken } from '@timeline/dev-stack';
import { Public, RequiresScope } from './access-rules';
import { AccessGuard, bearerTokenOf, grantOf, TimelineReachResolver } from './access.guard';
import { TokenVerifier } from './token-verifier';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const config = TimelineConfig.fromEnvironment({
  AUTH_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  AUTH_ISSUER: 'timeline-dev',
  AUTH_AUDIENCE: 'timeline-api',
});

class Routes {
  @RequiresScope('timelines:write')
  write() {}
  @Public()
  open() {}
  forgotten() {}
}

const fixedReach = (timelines: string[]): TimelineReachResolver => ({ reachOf: async () => ({ timelines }) });

function attempt(route: keyof Routes, authorization?: string, reach = fixedReach(['japan-nato'])) {
  const request = { headers: authorization === undefined ? {} : { authorization } };
  const context = {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the handler is looked up for its metadata, never called
    getHandler: () => Routes.prototype[route],
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
  const guard = new AccessGuard(new Reflector(), new TokenVerifier(config.auth), config, reach);
  return { request, outcome: guard.canActivate(context) };
}

const bearer = (claims: { scope: string; timelines?: string[] }) => `Bearer ${mintToken({ privateKey, subject: 'importer', ...claims })}`;

describe('AccessGuard', () => {
  test('given a route without an access rule, when anyone calls it, then it is refused (deny by default)', async () => {
    await expect(attempt('forgotten', bearer({ scope: 'timelines:read timelines:write ops' })).outcome).rejects.toMatchObject({
      code: 'forbidden',
      detail: expect.stringContaining('no access rule'),
    });
  });

  test('given a public route, when called without a token, then it is allowed', async () => {
    await expect(attempt('open').outcome).resolves.toBe(true);
  });

  test('given a scoped route, when the token has the scope, then it is allowed and the grant is kept for the request', async () => {
    const { request, outcome } = attempt('write', bearer({ scope: 'timelines:write' }));
    await expect(outcome).resolves.toBe(true);
    expect(grantOf(request)?.subject).toBe('importer');
  });

  test('given a scoped route, when there is no token, then 401 with a bare challenge; a token that is not Bearer is invalid_token', async () => {
    await expect(attempt('write').outcome).rejects.toMatchObject({ code: 'unauthorized', headers: { 'www-authenticate': 'Bearer' } });
    await expect(attempt('write', 'Basic dXNlcjpwYXNz').outcome).rejects.toMatchObject({
      code: 'unauthorized',
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    });
  });

  test('given a scoped route, when the token lacks the scope or is narrowed to other timelines, then 403 naming the scope', async () => {
    const challenge = { 'www-authenticate': 'Bearer error="insufficient_scope", scope="timelines:write"' };
    await expect(attempt('write', bearer({ scope: 'timelines:read' })).outcome).rejects.toMatchObject({ code: 'forbidden', headers: challenge });
    await expect(attempt('write', bearer({ scope: 'timelines:write', timelines: ['other'] })).outcome).rejects.toMatchObject({
      code: 'forbidden',
      headers: challenge,
    });
    await expect(attempt('write', bearer({ scope: 'timelines:write', timelines: ['japan-nato'] })).outcome).resolves.toBe(true);
  });
});

describe('bearerTokenOf', () => {
  test('reads the token of a Bearer header, case-insensitively; anything else is not a bearer token', () => {
    expect(bearerTokenOf(undefined)).toBeUndefined();
    expect(bearerTokenOf('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerTokenOf('Bearer')).toBeNull();
    expect(bearerTokenOf('Basic dXNlcjpwYXNz')).toBeNull();
  });
});
