import { DEV_AUDIENCE, DEV_ISSUER, generateDevKeyPair, mintToken } from '@timeline/dev-stack';

/**
 * A key pair of this process's own, for tools that start the services themselves (bench, chaos, soak,
 * latency): `env` configures the services to verify its tokens, `authorization` is a header with every
 * scope, valid for a day, for the load and the probes they send.
 */
function createRunCredentials() {
  const { privateKeyPem, publicKeyPem } = generateDevKeyPair();
  const token = mintToken({ privateKey: privateKeyPem, subject: 'load-generator', expiresInSeconds: 24 * 3600 });
  return {
    env: { AUTH_PUBLIC_KEY: publicKeyPem, AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCE: DEV_AUDIENCE } as Record<string, string>,
    token,
    authorization: { authorization: `Bearer ${token}` } as Record<string, string>,
  };
}

export const runCredentials = createRunCredentials();
