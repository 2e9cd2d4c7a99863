import { Pool, type PoolClient } from 'pg';

/**
 * Runs `work` in one transaction: committed when it resolves, rolled back when
 * it throws, and the error goes on. Given the pool, it takes a connection for
 * the transaction; given a connection (one that holds a session lock, as the
 * migrations' does), it runs on that one and leaves it open.
 */
export async function withTransaction<T>(connection: Pool | PoolClient, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = connection instanceof Pool ? await connection.connect() : connection;
  try {
    await client.query('begin');
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    if (client !== connection) client.release();
  }
}
