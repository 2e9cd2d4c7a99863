import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { grantFromClaims, type Grant } from './grant';

/** Where verification keys come from and what a token must say; from AUTH_* (libs/config). */
export interface TokenSettings {
  jwksUrl: string | null;
  /** A PEM (SPKI) public key, read from AUTH_PUBLIC_KEY or AUTH_PUBLIC_KEY_FILE. */
  publicKeyPem: string | null;
  issuer: string | null;
  audience: string | null;
  clockToleranceSeconds: number;
}

/** Asymmetric algorithms only: `none` and HS* (a public key used as an HMAC secret) are never accepted. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** A token that does not prove anything: missing, malformed, badly signed, expired, or for someone else. */
export class InvalidToken extends Error {}

/**
 * A verified token's grant is kept this long at most (and never past its `exp`): a signature check costs
 * ~0.2 ms of CPU (Ed25519, ES256) and a service calls with the same token many times, while a key withdrawn
 * from the JWKS stops its tokens within this time.
 */
const VERIFIED_FOR_MS = 60_000;
/** Bounds the memory of verified tokens; the oldest is forgotten first. */
const MAX_VERIFIED_TOKENS = 10_000;

/** Verifies bearer tokens (JWTs) against a JWKS URL or one configured public key. */
export class TokenVerifier {
  private readonly key: KeyObject | JWTVerifyGetKey | null;
  private readonly algorithms: string[];
  private readonly verified = new Map<string, { grant: Grant; untilMs: number }>();

  constructor(
    private readonly settings: TokenSettings,
    private readonly now: () => number = Date.now,
  ) {
    if (settings.jwksUrl) {
      this.key = createRemoteJWKSet(new URL(settings.jwksUrl));
      this.algorithms = ASYMMETRIC_ALGORITHMS;
    } else if (settings.publicKeyPem) {
      const key = createPublicKey(settings.publicKeyPem);
      this.key = key;
      this.algorithms = algorithmsFor(key);
    } else {
      // AUTH_PUBLIC_READ without a key source: reads are open, every token is refused.
      this.key = null;
      this.algorithms = [];
    }
  }

  async verify(token: string): Promise<Grant> {
    if (!this.key) throw new InvalidToken('no key is configured to verify tokens (AUTH_JWKS_URL or AUTH_PUBLIC_KEY)');
    const now = this.now();
    const known = this.verified.get(token);
    if (known && now < known.untilMs) return known.grant;
    this.verified.delete(token);
    try {
      const { payload } = await jwtVerify(token, this.key as KeyObject, {
        algorithms: this.algorithms,
        issuer: this.settings.issuer ?? undefined,
        audience: this.settings.audience ?? undefined,
        clockTolerance: this.settings.clockToleranceSeconds,
        currentDate: new Date(now),
        requiredClaims: ['exp'],
      });
      // Accepted until exp plus the tolerance: what outlives the request (a stream) ends when a reconnect would be refused.
      const grant = { ...grantFromClaims(payload), expiresAt: (payload.exp! + this.settings.clockToleranceSeconds) * 1000 };
      this.remember(token, grant, Math.min(now + VERIFIED_FOR_MS, payload.exp! * 1000));
      return grant;
    } catch (error) {
      if (error instanceof errors.JOSEError || error instanceof TypeError) throw new InvalidToken(describe(error));
      throw error;
    }
  }

  private remember(token: string, grant: Grant, untilMs: number): void {
    if (this.verified.size >= MAX_VERIFIED_TOKENS) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { grant, untilMs });
  }
}

/** The algorithms a key of this type signs with; a token naming another is refused. */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'ed25519':
    case 'ed448':
      return ['EdDSA'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const byCurve: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
      if (!curve || !byCurve[curve]) throw new Error(`the public key's curve ${curve} is not one JWTs are signed with`);
      return [byCurve[curve]];
    }
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    default:
      throw new Error(`the public key is of type ${key.asymmetricKeyType}, not one JWTs are signed with (RSA, EC, Ed25519)`);
  }
}

/** Why a token was refused, for the problem's detail; never the token itself. */
function describe(error: Error): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `the token's ${error.claim} claim is not accepted`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return "the token's signature does not verify";
  if (error instanceof errors.JOSEAlgNotAllowed) return "the token's signing algorithm is not accepted";
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  return 'the token is not a valid JWT';
}
