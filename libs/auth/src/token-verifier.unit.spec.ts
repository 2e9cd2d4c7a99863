import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { SignJWT } from 'jose';
import { InvalidToken, TokenVerifier } from './token-verifier';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'timeline-api';

function keyPair(type: 'ed25519' | 'ec') {
  const { publicKey, privateKey } = type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), privateKey, alg: type === 'ec' ? 'ES256' : 'EdDSA' };
}

function mint(
  privateKey: KeyObject,
  alg: string,
  claims: Record<string, unknown> = {},
  options: { issuer?: string; audience?: string; expires?: string | number } = {},
) {
  return new SignJWT({ scope: 'timelines:read', ...claims })
    .setProtectedHeader({ alg })
    .setSubject('tester')
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '5m')
    .sign(privateKey);
}

const verifierFor = (publicKeyPem: string) => new TokenVerifier({ jwksUrl: null, publicKeyPem, issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 5 });

describe('TokenVerifier with a configured public key', () => {
  for (const type of ['ed25519', 'ec'] as const) {
    test(`given a ${type} key, when a token it signed arrives, then its grant is read`, async () => {
      const { publicKeyPem, privateKey, alg } = keyPair(type);
      const grant = await verifierFor(publicKeyPem).verify(await mint(privateKey, alg, { timelines: ['japan-nato'] }));
      expect({ subject: grant.subject, scopes: [...grant.scopes], timelines: [...grant.timelines!] }).toEqual({
        subject: 'tester',
        scopes: ['timelines:read'],
        timelines: ['japan-nato'],
      });
    });
  }

  test('when the token is signed by another key, then it is refused', async () => {
    const ours = keyPair('ed25519');
    const theirs = keyPair('ed25519');
    await expect(verifierFor(ours.publicKeyPem).verify(await mint(theirs.privateKey, 'EdDSA'))).rejects.toThrow(/signature does not verify/);
  });

  test('when the token has expired beyond the clock tolerance, then it is refused', async () => {
    const { publicKeyPem, privateKey } = keyPair('ed25519');
    const expired = await mint(privateKey, 'EdDSA', {}, { expires: Math.floor(Date.now() / 1000) - 60 });
    await expect(verifierFor(publicKeyPem).verify(expired)).rejects.toThrow(/expired/);
  });

  test('when the issuer or the audience is another, then it is refused', async () => {
    const { publicKeyPem, privateKey } = keyPair('ed25519');
    await expect(verifierFor(publicKeyPem).verify(await mint(privateKey, 'EdDSA', {}, { issuer: 'https://elsewhere' }))).rejects.toThrow(/iss/);
    await expect(verifierFor(publicKeyPem).verify(await mint(privateKey, 'EdDSA', {}, { audience: 'another-api' }))).rejects.toThrow(/aud/);
  });

  test('when the token is unsigned (alg none) or HMAC-signed with the public key as secret, then it is refused', async () => {
    const { publicKeyPem } = keyPair('ed25519');
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = encode({ sub: 'x', scope: 'ops', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 });
    await expect(verifierFor(publicKeyPem).verify(`${encode({ alg: 'none' })}.${claims}.`)).rejects.toThrow(InvalidToken);
    const hmac = await new SignJWT({ scope: 'ops' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicKeyPem));
    await expect(verifierFor(publicKeyPem).verify(hmac)).rejects.toThrow(/algorithm is not accepted/);
  });

  test('when no key source is configured, then every token is refused', async () => {
    const { privateKey } = keyPair('ed25519');
    const verifier = new TokenVerifier({ jwksUrl: null, publicKeyPem: null, issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 5 });
    await expect(verifier.verify(await mint(privateKey, 'EdDSA'))).rejects.toThrow(InvalidToken);
  });
});

describe('TokenVerifier remembers tokens it verified', () => {
  const start = Date.UTC(2026, 11, 1, 12, 0, 0);
  const withClock = (publicKeyPem: string, clock: { now: number }) =>
    new TokenVerifier({ jwksUrl: null, publicKeyPem, issuer: ISSUER, audience: AUDIENCE, clockToleranceSeconds: 0 }, () => clock.now);

  test('given a verified token, when it comes again within a minute, then the same grant answers without verifying again', async () => {
    const { publicKeyPem, privateKey, alg } = keyPair('ed25519');
    const clock = { now: start };
    const verifier = withClock(publicKeyPem, clock);
    const token = await mint(privateKey, alg, {}, { expires: start / 1000 + 3600 });
    const first = await verifier.verify(token);
    clock.now += 59_000;
    expect(await verifier.verify(token)).toBe(first);
    clock.now += 2_000;
    const again = await verifier.verify(token);
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });

  test('given a verified token, when its exp passes, then it is refused although it was remembered', async () => {
    const { publicKeyPem, privateKey, alg } = keyPair('ed25519');
    const clock = { now: start };
    const verifier = withClock(publicKeyPem, clock);
    const token = await mint(privateKey, alg, {}, { expires: start / 1000 + 10 });
    await verifier.verify(token);
    clock.now += 9_000;
    await verifier.verify(token);
    clock.now += 1_000;
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
  });

  test('a token that was refused is not remembered: it is refused again', async () => {
    const ours = keyPair('ed25519');
    const theirs = keyPair('ed25519');
    const verifier = withClock(ours.publicKeyPem, { now: start });
    const forged = await mint(theirs.privateKey, 'EdDSA', {}, { expires: start / 1000 + 3600 });
    await expect(verifier.verify(forged)).rejects.toThrow(InvalidToken);
    await expect(verifier.verify(forged)).rejects.toThrow(InvalidToken);
  });
});
