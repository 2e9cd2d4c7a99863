/**
 * For `scripts/start.sh`: makes (on first run) the development key pair in the state directory and prints
 * shell assignments: the apps' AUTH_* settings, a development token (every scope, subject the seed user,
 * 30 days) for the seed and the operator, as `eval "$(node dist/scripts/auth/dev-auth-env.js)"` reads them.
 */
import { DEV_AUDIENCE, DEV_ISSUER, devKeyPairIn, mintToken } from '@timeline/dev-stack';
import { devStateDirectory } from './dev-state';

const SEED_USER = 'seed';
const THIRTY_DAYS = 30 * 24 * 3600;

const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
const { privateKeyPem, publicKeyFile } = devKeyPairIn(devStateDirectory());
const token = mintToken({ privateKey: privateKeyPem, subject: SEED_USER, expiresInSeconds: THIRTY_DAYS });
for (const [name, value] of Object.entries({
  AUTH_PUBLIC_KEY_FILE: publicKeyFile,
  AUTH_ISSUER: DEV_ISSUER,
  AUTH_AUDIENCE: DEV_AUDIENCE,
  TIMELINE_TOKEN: token,
})) {
  console.log(`export ${name}=${quote(value)}`);
}
