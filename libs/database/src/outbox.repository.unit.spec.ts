import { describe, expect, test } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Pool } from 'pg';
import { OutboxRepository } from './outbox.repository';

/** A connection as pg-pool hands it out: it throws when released a second time. */
class PooledConnection extends EventEmitter {
  releases = 0;

  async query() {
    return { rows: [{ locked: true }] };
  }

  release() {
    this.releases += 1;
    if (this.releases > 1) throw new Error('Release called on client which has already been released to the pool.');
  }
}

describe('the relay lease', () => {
  test('lost with its connection, then released by the relay and again at shutdown: the connection goes back once', async () => {
    const connection = new PooledConnection();
    const outbox = new OutboxRepository({ connect: async () => connection } as unknown as Pool);
    const lease = await outbox.tryRelayLease();
    expect(lease?.held).toBe(true);

    connection.emit('error', new Error('Connection terminated unexpectedly'));
    expect(lease!.held).toBe(false);
    await lease!.release();
    await lease!.release();
    expect(connection.releases).toBe(1);
  });
});
