import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createPool, OutboxRepository } from '@timeline/database';
import type { Pool } from 'pg';
import { TcpProxy } from '@timeline/dev-stack';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const SCHEMA = 'timeline';

/**
 * The relay's lease is an advisory lock held on a connection of its own. When the path to the
 * database is cut, the server ends that connection (and drops the lock) while the relay hears
 * nothing: here a proxy that swallows every byte stands for the cut path.
 */
describe('the relay lease over a half-open connection', () => {
  let database: TestDatabase;
  let proxy: TcpProxy;
  let behindProxy: Pool;
  let direct: Pool;

  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await TcpProxy.start({ host: url.hostname, port: Number(url.port) });
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    behindProxy = createPool({ url: proxied.toString(), schema: SCHEMA, poolSize: 2, applicationName: 'relay-behind-cut' });
    direct = createPool({ url: database.url, schema: SCHEMA, poolSize: 2, applicationName: 'relay-direct' });
    await direct.query(`create schema ${SCHEMA}`);
  });

  afterAll(async () => {
    await proxy.cut();
    await behindProxy.end().catch(() => undefined);
    await direct.end();
    await database.drop();
  });

  test('the first relay no longer confirms its lease once the server has dropped it; a second relay holds it alone', async () => {
    const first = await new OutboxRepository(behindProxy).tryRelayLease();
    expect(first?.held).toBe(true);
    expect(await first!.confirm(2_000)).toBe(true);
    expect(await new OutboxRepository(direct).tryRelayLease()).toBeNull();

    proxy.freeze();
    // What the server does when its keepalive finds the peer gone: the backend ends, the lock with it.
    const { rows } = await direct.query<{ ended: boolean }>(
      `select pg_terminate_backend(pid) as ended from pg_stat_activity where application_name = 'relay-behind-cut'`,
    );
    expect(rows.map((row) => row.ended)).toContain(true);
    const second = await new OutboxRepository(direct).tryRelayLease();
    expect(second?.held).toBe(true);

    // No error reached the first relay: by itself it would go on publishing beside the second.
    expect(first!.held).toBe(true);
    const started = Date.now();
    expect(await first!.confirm(1_000)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(first!.held).toBe(false);

    expect(await second!.confirm(2_000)).toBe(true);
    await second!.release();
  });
});
