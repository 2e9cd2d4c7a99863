import { Pool, types } from 'pg';
import { quoteIdentifier } from './migrations';

// bigint (int8) comes back as a string by default; offsets and counts fit in a double.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));
// Keep dates as the text PostgreSQL gives ('2023-07-12'), not local-midnight Date objects.
types.setTypeParser(types.builtins.DATE, (value) => value);

export interface PoolSettings {
  url: string;
  schema: string;
  poolSize: number;
  applicationName: string;
  /** Longest a statement may run (ms); 0 or absent for no limit. */
  statementTimeoutMs?: number;
}

/**
 * A pool whose connections all work in the service's schema. TCP keepalive
 * finds a connection whose peer went away without a word (a half-open socket
 * after a failover or a cut network) instead of waiting on it for ever.
 */
export function createPool({ url, schema, poolSize, applicationName, statementTimeoutMs }: PoolSettings): Pool {
  const pool = new Pool({
    connectionString: url,
    max: poolSize,
    application_name: applicationName,
    options: `-c search_path=${quoteIdentifier(schema)}`,
    connectionTimeoutMillis: 5_000,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
  });
  // A checked-out connection that dies emits 'error' too, and pg-pool listens only on idle ones: without a
  // listener of its own the process would end. The query in flight fails with the same error, which its
  // caller handles; the pool then drops the connection when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // An idle connection that the server ends (restart, failover) is dropped by the pool and
  // replaced on the next checkout; without a listener the 'error' event would end the process.
  pool.on('error', (error) => console.warn(JSON.stringify({ level: 'warn', context: 'Database', message: `idle connection lost: ${error.message}` })));
  return pool;
}
