import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { expectEventually } from '../../../test/support/eventually';
import { DecisionNotifications, type DecisionSubscriber } from './decision-notifications';
import { OutboxSignal } from './outbox-signal';
import { DECISIONS_CHANNEL } from './projection.repository';

/** A subscriber that writes down what it is told. */
function recorder() {
  const heard = { decided: [] as string[][], reconnected: 0 };
  const subscriber: DecisionSubscriber = {
    decided: (commandIds) => heard.decided.push(commandIds),
    reconnected: () => (heard.reconnected += 1),
  };
  return { heard, subscriber };
}

describe('the decision listener', () => {
  let database: MigratedDatabase;
  let listener: DecisionNotifications;
  const unsubscribes: (() => void)[] = [];

  beforeAll(async () => {
    database = await createMigratedDatabase();
    listener = new DecisionNotifications(database.url);
    await listener.start();
  });
  afterEach(() => unsubscribes.splice(0).forEach((unsubscribe) => unsubscribe()));
  afterAll(async () => {
    await listener?.stop();
    await database?.drop();
  });

  const subscribe = (subscriber: DecisionSubscriber) => unsubscribes.push(listener.subscribe(subscriber));
  const notify = (payload: string) => database.pool.query('select pg_notify($1, $2)', [DECISIONS_CHANNEL, payload]);
  const listeningBackends = async () => {
    const { rows } = await database.pool.query<{ pid: number }>(
      `select pid from pg_stat_activity where application_name = 'timeline-decision-listener' and datname = current_database()`,
    );
    return rows.map((row) => row.pid);
  };

  test('a NOTIFY reaches every subscriber, over the one connection they share', async () => {
    const first = recorder();
    const second = recorder();
    subscribe(first.subscriber);
    subscribe(second.subscriber);
    await notify('a,b');
    await expectEventually(() => {
      expect(first.heard.decided).toEqual([['a', 'b']]);
      expect(second.heard.decided).toEqual([['a', 'b']]);
    });
    expect(await listeningBackends()).toHaveLength(1);
  });

  test('a subscriber that has left hears nothing more', async () => {
    const { heard, subscriber } = recorder();
    const stay = recorder();
    listener.subscribe(subscriber)();
    subscribe(stay.subscriber);
    await notify('c');
    await expectEventually(() => expect(stay.heard.decided).toEqual([['c']]));
    expect(heard.decided).toEqual([]);
  });

  test('a lost connection is replaced: every subscriber is told, to look up what it missed, and hears again', async () => {
    const first = recorder();
    const second = recorder();
    subscribe(first.subscriber);
    subscribe(second.subscriber);
    const [lost] = await listeningBackends();
    await database.pool.query('select pg_terminate_backend($1)', [lost]);

    await expectEventually(() => {
      expect(first.heard.reconnected).toBe(1);
      expect(second.heard.reconnected).toBe(1);
    });
    await notify('d');
    await expectEventually(() => expect([first.heard.decided, second.heard.decided]).toEqual([[['d']], [['d']]]));
    const backends = await listeningBackends();
    expect(backends).toHaveLength(1);
    expect(backends).not.toContain(lost);
  });

  test("an outbox reader's signal wakes it on a NOTIFY, long before its poll", async () => {
    const signal = new OutboxSignal(listener);
    signal.start();
    try {
      const started = Date.now();
      const woken = signal.wait(60_000);
      await notify('e');
      await woken;
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      signal.stop();
    }
  });
});
