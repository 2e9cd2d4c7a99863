import { ALL_SCOPES, DEV_AUDIENCE, DEV_ISSUER, mintToken, type TokenRequest } from '@timeline/dev-stack';

/**
 * Tokens for the tests, signed with the run's key pair, which the global setup makes (TEST_AUTH_*): the
 * services under test verify them through AUTH_PUBLIC_KEY (`authEnv`).
 */
function testPrivateKey(): string {
  const key = process.env.TEST_AUTH_PRIVATE_KEY;
  if (!key) throw new Error('TEST_AUTH_PRIVATE_KEY is not set: run through jest, whose global setup makes the key pair');
  return key;
}

/** What a service needs to verify the tests' tokens. */
export function authEnv(): Record<string, string> {
  const publicKey = process.env.TEST_AUTH_PUBLIC_KEY;
  if (!publicKey) throw new Error('TEST_AUTH_PUBLIC_KEY is not set: run through jest, whose global setup makes the key pair');
  return { AUTH_PUBLIC_KEY: publicKey, AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE };
}

/** A token with any scopes, timelines, expiry, issuer or audience; every scope for an hour by default. */
export function testToken(request: Omit<TokenRequest, 'privateKey'> & { privateKey?: TokenRequest['privateKey'] } = {}): string {
  return mintToken({ subject: 'test-client', scope: ALL_SCOPES, ...request, privateKey: request.privateKey ?? testPrivateKey() });
}

/** `{authorization: Bearer …}` with every scope, for raw requests. */
export function bearer(token: string = testToken()): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
