/**
 * The log file of a server a supervisor (embedded-postgres.mjs, embedded-replica.mjs) runs: what the server and the
 * supervisor write to it, its last lines, and how a supervisor gives up (those lines on stderr, exit status 1).
 */
import { appendFileSync, readFileSync } from 'node:fs';

export function serverLog(supervisor, logFile) {
  const log = (text) => {
    try {
      appendFileSync(logFile, text);
    } catch {
      // The watchdog may have deleted the data dir already.
    }
  };
  const logTail = (lines = 30) => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no postgres.log)';
    }
  };
  const fail = (message) => {
    console.error(`${supervisor}: ${message}\nlast lines of ${logFile}:\n${logTail()}`);
    process.exit(1);
  };
  return { log, logTail, fail };
}
