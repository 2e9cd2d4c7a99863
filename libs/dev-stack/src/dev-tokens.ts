import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Tokens signed with a development key (Ed25519), for `npm start`, `npm run token`, the tests, the bench and
 * the chaos runs: the service verifies them as it would an identity provider's, through AUTH_PUBLIC_KEY.
 * Production tokens come from an identity provider (docs/access.md); nothing here runs in the service.
 */
export const DEV_ISSUER = 'timeline-dev';
export const DEV_AUDIENCE = 'timeline-api';
export const ALL_SCOPES = 'timelines:read timelines:write ops';

export interface TokenRequest {
  privateKey: KeyObject | string;
  /** Space-separated scopes (RFC 9068 `scope`). */
  scope?: string;
  subject?: string;
  /** Narrows the timeline scopes to these timelines. */
  timelines?: string[];
  /** Seconds from now; negative for a token that has expired. */
  expiresInSeconds?: number;
  issuer?: string;
  audience?: string;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWT signed with an Ed25519 key (EdDSA), synchronously. */
export function mintToken(request: TokenRequest): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: request.issuer ?? DEV_ISSUER,
    aud: request.audience ?? DEV_AUDIENCE,
    sub: request.subject ?? 'developer',
    scope: request.scope ?? ALL_SCOPES,
    ...(request.timelines ? { timelines: request.timelines } : {}),
    iat: now,
    exp: now + (request.expiresInSeconds ?? 3600),
  };
  const signingInput = `${base64url({ alg: 'EdDSA', typ: 'JWT' })}.${base64url(claims)}`;
  const key = typeof request.privateKey === 'string' ? createPrivateKey(request.privateKey) : request.privateKey;
  return `${signingInput}.${sign(null, Buffer.from(signingInput), key).toString('base64url')}`;
}

export interface DevKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function generateDevKeyPair(): DevKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** The development key pair in `dir` (`dev-signing-key.pem`, `dev-public-key.pem`), made on first use. */
export function devKeyPairIn(dir: string): DevKeyPair & { publicKeyFile: string } {
  const privateFile = path.join(dir, 'dev-signing-key.pem');
  const publicKeyFile = path.join(dir, 'dev-public-key.pem');
  if (!existsSync(privateFile)) {
    mkdirSync(dir, { recursive: true });
    const pair = generateDevKeyPair();
    writeFileSync(privateFile, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(publicKeyFile, pair.publicKeyPem);
  }
  const privateKeyPem = readFileSync(privateFile, 'utf8');
  const publicKeyPem = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(publicKeyFile) || readFileSync(publicKeyFile, 'utf8') !== publicKeyPem) writeFileSync(publicKeyFile, publicKeyPem);
  return { privateKeyPem, publicKeyPem, publicKeyFile };
}

/** `1h`, `30m`, `90s`, `7d`, or seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text} (use 90s, 30m, 1h, 7d)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
