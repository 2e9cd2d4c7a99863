import { homedir } from 'node:os';
import * as path from 'node:path';

/** Where `npm start` keeps its development key pair: TIMELINE_STATE_DIR, else ~/.cache/timeline-service (outside the repository). */
export function devStateDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return env.TIMELINE_STATE_DIR || path.join(homedir(), '.cache', 'timeline-service');
}
