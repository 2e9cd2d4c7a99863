import { readFileSync } from 'node:fs';

/**
 * The bearer token a command-line tool sends: the file `--token-file FILE` names, else TIMELINE_TOKEN.
 * A file keeps the token out of the process list and the shell's history.
 */
export function tokenFromCommandLine(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const fileIndex = args.indexOf('--token-file');
  if (fileIndex >= 0) {
    const file = args[fileIndex + 1];
    if (!file) throw new Error('--token-file needs a file name');
    return readFileSync(file, 'utf8').trim();
  }
  const token = env.TIMELINE_TOKEN?.trim();
  if (!token) throw new Error('no token: set TIMELINE_TOKEN or pass --token-file FILE (mint one with npm run token)');
  return token;
}
