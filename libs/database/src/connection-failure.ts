import { Problem } from '@timeline/problems';

// Node's socket errors when PostgreSQL cannot be reached.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// node-postgres reports a lost or unusable connection with these messages and no code.
const LOST_CONNECTION = /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|client was closed|ended by the server/i;
// SQLSTATE: 08 connection exception; 57P01-57P03 the server shuts down, crashed, or does not take connections yet.
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123])$/;

/**
 * True when an error says PostgreSQL could not be reached or the connection
 * was lost: the database is unavailable, not the query wrong. Such a failure
 * is retried by the projector and answered 503 by the api.
 */
export function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  return LOST_CONNECTION.test((error as Error)?.message ?? '');
}

/** The problem a lost or refused PostgreSQL connection is answered with (a `ProblemTranslator`): 503, retry shortly. */
export function databaseUnavailableProblem(error: unknown): Problem | undefined {
  if (!isConnectionFailure(error)) return undefined;
  return new Problem('database-unavailable', 'PostgreSQL cannot be reached now; retry shortly', { retryable: true }, { 'retry-after': '1' });
}
