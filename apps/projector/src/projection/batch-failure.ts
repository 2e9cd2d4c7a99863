import { isConnectionFailure } from '@timeline/database';

/**
 * Why a projector transaction failed, and whether trying the same records
 * again can help. Labels of `timeline_projector_batch_failures_total`.
 */
export const FAILURE_CLASSES = [
  // The records: the database refused their data (SQLSTATE classes 22, 23, 54) or deciding them threw.
  'unprocessable',
  // Transient: retried with backoff until they pass.
  'connection',
  'serialization',
  'timeout',
  'shutdown',
  'fenced',
  // Kafka's log ends before the stored offset: its data was lost or reset. Retried, never skipped: restore it.
  'log-behind',
  'database',
  'unknown',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Thrown when the pure part of a batch (parse, decide, evolve) fails: the same records will always fail. */
export class DecideError extends Error {
  constructor(override readonly cause: unknown) {
    super(`deciding the batch failed: ${(cause as Error)?.message ?? String(cause)}`);
  }
}

/** Thrown when the partition's stored offset moved under a batch: another owner applied it. */
export class OffsetMovedError extends Error {}

/** Thrown when the rows a batch was decided on kept changing under it (another partition wrote them): retried. */
export class StateChangedError extends Error {
  constructor(partition: number, attempts: number) {
    super(`partition ${partition}: rows the batch was decided on changed under it ${attempts} times; retrying`);
  }
}

/**
 * Thrown when the stored offset is past the end of the partition in Kafka:
 * records the read models include are gone from the log (its data was lost,
 * or the topic recreated). New records there would be taken as applied and
 * silently ignored, so the partition stops until an operator restores the
 * log or rebuilds the read models from it.
 */
export class LogBehindStoredOffset extends Error {
  constructor(partition: number, stored: number, logEnd: number) {
    super(
      `partition ${partition} ends at offset ${logEnd} in Kafka but the read models are at ${stored}: ` +
        `Kafka lost records or the topic was recreated; restore the log, or rebuild the read models from it`,
    );
  }
}

// SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
const RECORD_CLASSES = new Set(['22', '23', '54']);

/**
 * Errors that the same records will always cause are `unprocessable`; every
 * other is transient. Anything unrecognised counts as transient: retrying a
 * healthy record is cheap, rejecting it for a fault of ours is not.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof DecideError) return 'unprocessable';
  if (error instanceof OffsetMovedError || error instanceof StateChangedError) return 'fenced';
  if (error instanceof LogBehindStoredOffset) return 'log-behind';
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : '';
  if (/^[0-9A-Z]{5}$/.test(code)) return sqlStateClass(code);
  return isConnectionFailure(error) ? 'connection' : 'unknown';
}

function sqlStateClass(code: string): FailureClass {
  const sqlClass = code.slice(0, 2);
  if (RECORD_CLASSES.has(sqlClass)) return 'unprocessable';
  if (sqlClass === '08') return 'connection';
  if (sqlClass === '40') return 'serialization';
  if (code === '57014' || code === '55P03') return 'timeout';
  if (sqlClass === '57') return 'shutdown';
  return 'database';
}

/**
 * What the decision of a refused record says: the SQLSTATE and the database's
 * message. Not its `detail`, which may quote the whole row.
 */
export function failureDetail(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  const cause = error instanceof DecideError ? error.cause : error;
  const message = (cause as Error)?.message ?? String(cause);
  return typeof code === 'string' ? `${code}: ${message}` : message;
}
