/**
 * Mints a bearer token with the development key of `npm start` (its state directory), for curl, the seed,
 * `npm run rebuild` and the ops page. Production tokens come from your identity provider (docs/access.md).
 *
 *   npm run token -- [--scope "timelines:read ops"] [--timeline id]... [--expires 1h] [--subject name]
 *
 * Defaults: every scope, no narrowing, 1 hour, subject `developer`. Prints the token alone.
 */
import { ALL_SCOPES, devKeyPairIn, mintToken, parseDuration } from '@timeline/dev-stack';
import { devStateDirectory } from './dev-state';

function main(args: string[]): void {
  const valuesOf = (flag: string) => args.flatMap((arg, i) => (arg === flag && args[i + 1] !== undefined ? [args[i + 1]] : []));
  const [scope = ALL_SCOPES] = valuesOf('--scope');
  const [expires = '1h'] = valuesOf('--expires');
  const [subject = 'developer'] = valuesOf('--subject');
  const timelines = valuesOf('--timeline');
  const { privateKeyPem } = devKeyPairIn(devStateDirectory());
  console.log(
    mintToken({ privateKey: privateKeyPem, scope, subject, timelines: timelines.length ? timelines : undefined, expiresInSeconds: parseDuration(expires) }),
  );
}

main(process.argv.slice(2));
