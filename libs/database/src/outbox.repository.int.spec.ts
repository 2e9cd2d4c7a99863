import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { expectEventually } from '../../../test/support/eventually';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { commands, projectCommands } from '../../../test/support/projected-commands';
import { OutboxRepository } from './outbox.repository';
import { ProjectionRepository } from './projection.repository';

describe('the outbox', () => {
  let database: MigratedDatabase;
  let outbox: OutboxRepository;
  /** Positions of: timeline a created, timeline b created, an event recorded on a. */
  let positions: number[];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    outbox = new OutboxRepository(database.pool);
    await projectCommands(new ProjectionRepository(database.pool), [commands.createTimeline('a'), commands.createTimeline('b'), commands.recordEvent('a')]);
    positions = (await outbox.readAfter(0, 10)).map((row) => row.position);
  });
  afterAll(() => database?.drop());

  test('holds each accepted change once, in the order decided', async () => {
    const rows = await outbox.readAfter(0, 10);
    expect(rows.map((row) => [row.timelineId, row.changeType, row.change.type])).toEqual([
      ['a', 'TimelineCreated', 'TimelineCreated'],
      ['b', 'TimelineCreated', 'TimelineCreated'],
      ['a', 'EventRecorded', 'EventRecorded'],
    ]);
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(await outbox.head()).toBe(positions[2]);
  });

  test("catchUpPage: rows up to the smaller of `upTo` and the copy's last row, and how far the page is complete", async () => {
    const page = async (...args: Parameters<OutboxRepository['catchUpPage']>) => {
      const { rows, completeUpTo } = await outbox.catchUpPage(...args);
      return { positions: rows.map((row) => row.position), completeUpTo };
    };
    expect(await page(0, 10, {}, positions[1])).toEqual({ positions: [positions[0], positions[1]], completeUpTo: positions[1] });
    // A feed head past what this copy holds (a replica behind the primary): complete only up to its own last row.
    expect(await page(0, 10, {}, positions[2] + 1_000)).toEqual({ positions, completeUpTo: positions[2] });
    expect(await page(positions[0], 10, { timelineId: 'b' }, positions[2])).toEqual({ positions: [positions[1]], completeUpTo: positions[2] });
    expect(await page(positions[2], 10, {}, positions[2])).toEqual({ positions: [], completeUpTo: positions[2] });
  });

  test('readAfter: the rows after a position, up to `upTo`, of a timeline or of change types', async () => {
    const read = async (...args: Parameters<OutboxRepository['readAfter']>) => (await outbox.readAfter(...args)).map((row) => row.position);
    expect(await read(positions[0], 10)).toEqual([positions[1], positions[2]]);
    expect(await read(0, 2)).toEqual([positions[0], positions[1]]);
    expect(await read(0, 10, {}, positions[1])).toEqual([positions[0], positions[1]]);
    expect(await read(0, 10, { timelineId: 'a' })).toEqual([positions[0], positions[2]]);
    expect(await read(0, 10, { changeTypes: ['EventRecorded'] })).toEqual([positions[2]]);
    expect(await outbox.resumeAfter(positions[1])).toBe(positions[1]);
    expect(await outbox.resumeAfter(positions[2] + 1)).toBeNull();
  });

  test('unsent: the rows not yet marked sent, in position order, up to the limit; marking sent twice keeps the first time', async () => {
    expect((await outbox.unsent(2)).map((row) => row.position)).toEqual([positions[0], positions[1]]);
    await outbox.markSent([positions[0], positions[1]]);
    expect((await outbox.unsent(10)).map((row) => row.position)).toEqual([positions[2]]);

    const sentAt = async () => (await database.pool.query('select sent_at from outbox where position = $1', [positions[0]])).rows[0].sent_at;
    const first = await sentAt();
    await outbox.markSent([positions[0], positions[2]]);
    expect(await sentAt()).toEqual(first);
    expect(await outbox.unsent(10)).toEqual([]);
  });
});

describe('the relay lease', () => {
  let database: MigratedDatabase;
  let outbox: OutboxRepository;

  beforeAll(async () => {
    database = await createMigratedDatabase();
    outbox = new OutboxRepository(database.pool);
  });
  afterAll(() => database?.drop());

  /** The backend that holds the relay's advisory lock in this database. */
  const lockHolder = async () => {
    const { rows } = await database.pool.query<{ pid: number }>(
      `select pid from pg_locks
        where locktype = 'advisory' and granted and classid = 7353002
          and database = (select oid from pg_database where datname = current_database())`,
    );
    return rows.map((row) => row.pid);
  };

  test('one relay at a time: a second finds it taken until the first releases it', async () => {
    const first = await outbox.tryRelayLease();
    expect(first?.held).toBe(true);
    expect(await outbox.tryRelayLease()).toBeNull();
    expect(await first!.confirm(5_000)).toBe(true);

    await first!.release();
    expect(first!.held).toBe(false);
    // Released by ending its connection: the server drops the lock once it sees the connection closed.
    await expectEventually(async () => expect(await lockHolder()).toEqual([]));
    const second = await outbox.tryRelayLease();
    expect(second?.held).toBe(true);
    await second!.release();
  });

  test('confirm: false once the server has ended the lease connection, which lets another relay take the lease', async () => {
    const lease = await outbox.tryRelayLease();
    const [pid] = await lockHolder();
    await database.pool.query('select pg_terminate_backend($1)', [pid]);

    expect(await lease!.confirm(5_000)).toBe(false);
    expect(lease!.held).toBe(false);
    const next = await outbox.tryRelayLease();
    expect(next?.held).toBe(true);
    await next!.release();
    await lease!.release(); // again at shutdown: harmless
  });
});
