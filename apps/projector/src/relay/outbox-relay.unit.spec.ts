import { describe, expect, test } from '@jest/globals';
import type { CommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { DecisionNotifications, OutboxSignal, type OutboxRepository, type RelayLease } from '@timeline/database';
import { gatherMs, OutboxRelay } from './outbox-relay';

/** A signal on a listener that never connects: these tests drive the relay step by step. */
const idleSignal = () => new OutboxSignal(new DecisionNotifications('postgres://unused'));

/** A lease like the repository's over a pooled connection: a second release throws, as pg-pool does. */
function lease() {
  const state = { held: true, confirmed: true, releases: 0 };
  const relayLease: RelayLease = {
    get held() {
      return state.held;
    },
    confirm: async () => {
      if (!state.confirmed) await relayLease.release();
      return state.confirmed;
    },
    release: async () => {
      state.held = false;
      state.releases += 1;
      if (state.releases > 1) throw new Error('Release called on client which has already been released to the pool.');
    },
  };
  return { state, relayLease };
}

describe('the relay lease across a database outage', () => {
  test('a lost lease is released once, also when taking a new one fails meanwhile; the relay leads again when the database is back', async () => {
    const first = lease();
    const second = lease();
    const attempts: (() => Promise<RelayLease | null>)[] = [
      async () => first.relayLease,
      async () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
      async () => second.relayLease,
    ];
    const outbox = { tryRelayLease: () => attempts.shift()!() } as unknown as OutboxRepository;
    const relay = new OutboxRelay(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true' }), {} as CommandLog, outbox, idleSignal());

    expect(await relay.lead()).toBe(true);
    first.state.held = false; // its connection was lost
    await expect(relay.lead()).rejects.toThrow('ECONNREFUSED');
    expect(await relay.lead()).toBe(true);
    expect(first.state.releases).toBe(1);

    await relay.stop();
    expect(second.state.releases).toBe(1);
  });
});

describe('the relay lease confirmed before every round', () => {
  test('a lease whose connection no longer holds the lock is given up and taken again', async () => {
    const first = lease();
    const second = lease();
    const attempts: (() => Promise<RelayLease | null>)[] = [async () => first.relayLease, async () => null, async () => second.relayLease];
    const outbox = { tryRelayLease: () => attempts.shift()!() } as unknown as OutboxRepository;
    const relay = new OutboxRelay(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true' }), {} as CommandLog, outbox, idleSignal());

    expect(await relay.lead()).toBe(true);
    expect(await relay.lead()).toBe(true); // confirmed: the same lease
    expect(attempts).toHaveLength(2);

    first.state.confirmed = false; // the server ended its connection; no error reached us
    expect(await relay.lead()).toBe(false); // another relay holds the lock now
    expect(first.state.releases).toBe(1);
    expect(await relay.lead()).toBe(true);
    await relay.stop();
    expect(second.state.releases).toBe(1);
  });
});

describe('how long the relay lets batches gather after waking', () => {
  test('an idle relay, with nothing committed while it published, waits not at all', () => {
    expect(gatherMs(false, 40, 10)).toBe(0);
  });

  test('a busy relay waits as long as its last round took: little where rounds are quick', () => {
    expect(gatherMs(true, 2.4, 10)).toBe(2);
  });

  test('a busy relay whose rounds are slow waits no longer than RELAY_GATHER_MS, and 0 turns gathering off', () => {
    expect(gatherMs(true, 40, 10)).toBe(10);
    expect(gatherMs(true, 40, 0)).toBe(0);
  });
});
