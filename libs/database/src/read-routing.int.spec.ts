import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { freePort } from '@timeline/dev-stack';
import type { Pool } from 'pg';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { commands, projectCommands } from '../../../test/support/projected-commands';
import { decodeConsistencyToken, parseWalPosition } from './consistency-token';
import { LsnClock } from './lsn-clock';
import { createPool } from './pool';
import { ProjectionRepository } from './projection.repository';
import { ReadRouter } from './read-router';
import { ReplicationRepository } from './replication.repository';

// The int tier's server is a primary: what it can show here is the primary's side (the token's position, the
// statements a replica is asked, refusing a server that is not a replica or does not answer). Reads served by
// real replicas are test/read-replicas.e2e.spec.ts's.

const SETTINGS = { maxLagSeconds: 5, maxLagBytes: 16_777_216, checkIntervalMs: 1_000, consistencyWaitMs: 100 };
/** A token far past anything the primary has written. */
const FROM_THE_FUTURE = 0x7fffffffffffffffn;

describe('the LSN clock', () => {
  let database: MigratedDatabase;
  beforeAll(async () => (database = await createMigratedDatabase()));
  afterAll(() => database?.drop());

  test("reads the primary's WAL insert position: at or after every commit that finished before the call", async () => {
    const clock = new LsnClock(database.pool);
    await projectCommands(new ProjectionRepository(database.pool), [commands.createTimeline('lsn-clock')]);
    // The flush position after a commit returned covers its commit record.
    const { rows } = await database.pool.query<{ flushed: string }>('select pg_current_wal_lsn()::text as flushed');
    const position = await clock.now();
    expect(position).toBeGreaterThanOrEqual(parseWalPosition(rows[0].flushed));
    expect(decodeConsistencyToken(await clock.token())).toBeGreaterThanOrEqual(position);
  });

  test('concurrent calls share one statement', async () => {
    const pool = createPool({ url: database.url, schema: database.schema, poolSize: 2, applicationName: 'lsn-clock-test' });
    try {
      const clock = new LsnClock(pool);
      const query = jest.spyOn(pool, 'query');
      const positions = await Promise.all(Array.from({ length: 50 }, () => clock.now()));
      expect(query).toHaveBeenCalledTimes(1);
      expect(new Set(positions).size).toBe(1);
    } finally {
      await pool.end();
    }
  });
});

describe('the read router on a primary', () => {
  let database: MigratedDatabase;
  const pools: Pool[] = [];
  beforeAll(async () => {
    database = await createMigratedDatabase();
    await projectCommands(new ProjectionRepository(database.pool), [commands.createTimeline('routed')]);
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end().catch(() => undefined)));
    await database?.drop();
  });

  const poolAt = (url: string) => {
    const pool = createPool({ url, schema: database.schema, poolSize: 2, applicationName: 'read-router-test' });
    pools.push(pool);
    return pool;
  };

  function countedRouter(replicaPools: Pool[]) {
    const router = new ReadRouter(database.pool, replicaPools, SETTINGS);
    const answered: string[] = [];
    router.observeReads((server) => answered.push(server));
    return { router, answered };
  }

  test('without replicas every read goes to the primary at once, a token from the future too', async () => {
    const { router, answered } = countedRouter([]);
    const startedAt = Date.now();
    expect((await router.read(FROM_THE_FUTURE, (models) => models.timelines.findTimeline('routed')))?.timelineId).toBe('routed');
    expect(await router.read(undefined, (models) => models.events.now())).toEqual(expect.any(String));
    expect(Date.now() - startedAt).toBeLessThan(SETTINGS.consistencyWaitMs);
    expect(answered).toEqual(['primary', 'primary']);
    expect(router.serverNames).toEqual(['primary']);
  });

  test('a server that is not in recovery is no replica: out of the rotation, and reads go to the primary', async () => {
    const { router, answered } = countedRouter([poolAt(database.url)]);
    await router.checkReplicas();
    expect(router.replicaStatuses()).toEqual([
      expect.objectContaining({ name: 'replica-0', inRotation: false, lastError: 'not a replica: the server is not in recovery', lagBytes: null }),
    ]);
    await router.read(undefined, (models) => models.timelines.listTimelines({ limit: 10 }));
    expect(answered).toEqual(['primary']);
    await router.stop();
  });

  test('an unreachable replica is out of the rotation with its error; a read with a token does not wait for it', async () => {
    const closed = new URL(database.url);
    closed.port = String(await freePort());
    const { router, answered } = countedRouter([poolAt(closed.toString())]);
    await router.checkReplicas();
    const [status] = router.replicaStatuses();
    expect(status).toMatchObject({ name: 'replica-0', inRotation: false, lagSeconds: null });
    expect(status.lastError).toMatch(/ECONNREFUSED|connect/);
    const startedAt = Date.now();
    await router.read(FROM_THE_FUTURE, (models) => models.timelines.findTimeline('routed'));
    expect(Date.now() - startedAt).toBeLessThan(SETTINGS.consistencyWaitMs);
    expect(answered).toEqual(['primary']);
    expect(router.serverNames).toEqual(['primary', 'replica-0']);
    await router.stop();
  });

  test('the statements a replica is asked: on a primary, not in recovery and no replay position', async () => {
    const replication = new ReplicationRepository(database.pool);
    expect(await replication.replicaPosition()).toEqual({
      inRecovery: false,
      replayed: null,
      received: null,
      sinceLastReplayedCommitSeconds: null,
      walBlockSize: 8_192,
    });
    expect(await replication.replayPosition()).toBeNull();
    const before = await replication.walInsertPosition();
    await projectCommands(new ProjectionRepository(database.pool), [commands.createTimeline('moves-the-wal')]);
    expect(await replication.walInsertPosition()).toBeGreaterThan(before);
  });
});
