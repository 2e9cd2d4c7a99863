import { describe, expect, it } from '@jest/globals';
import type { RequestLimit } from '../observability/api-metrics';
import type { Problem } from '@timeline/problems';
import { StreamLimits } from './stream-limits';

function limits(bounds: { maxClients: number; maxClientsPerAddress: number; maxCatchUps: number; maxCatchUpWaitMs?: number }) {
  const refused: RequestLimit[] = [];
  return { limits: new StreamLimits({ maxCatchUpWaitMs: 0, ...bounds }, (limit) => refused.push(limit)), refused };
}

function refusal(admit: () => unknown): { code: string; status: number; retryAfter: string | undefined } {
  try {
    admit();
  } catch (error) {
    const problem = error as Problem;
    return { code: problem.code, status: problem.status, retryAfter: problem.headers['retry-after'] };
  }
  throw new Error('admitted');
}

describe('StreamLimits', () => {
  it('refuses a client past its own bound with 429, and admits it again once one of its streams closes', () => {
    const { limits: streams, refused } = limits({ maxClients: 10, maxClientsPerAddress: 2, maxCatchUps: 1 });
    const first = streams.admitClient('10.0.0.1');
    streams.admitClient('10.0.0.1');
    expect(refusal(() => streams.admitClient('10.0.0.1'))).toEqual({ code: 'rate-limited', status: 429, retryAfter: '5' });
    expect(refused).toEqual(['stream_clients_per_address']);
    streams.admitClient('10.0.0.2');
    first();
    first();
    expect(streams.openStreams).toBe(2);
    expect(() => streams.admitClient('10.0.0.1')).not.toThrow();
  });

  it('refuses any client past the process bound with 503', () => {
    const { limits: streams, refused } = limits({ maxClients: 2, maxClientsPerAddress: 2, maxCatchUps: 1 });
    streams.admitClient('a');
    streams.admitClient('b');
    expect(refusal(() => streams.admitClient('c'))).toEqual({ code: 'overloaded', status: 503, retryAfter: '5' });
    expect(refused).toEqual(['stream_clients']);
  });

  it('bounds the catch-ups running at once: past the bound one waits, and is refused with 503 when no slot frees in time', async () => {
    const { limits: streams, refused } = limits({ maxClients: 10, maxClientsPerAddress: 10, maxCatchUps: 1, maxCatchUpWaitMs: 10 });
    const release = await streams.admitCatchUp();
    await expect(streams.admitCatchUp()).rejects.toMatchObject({ code: 'overloaded', status: 503 });
    expect(refused).toEqual(['stream_catch_ups']);
    release();
    expect(streams.runningCatchUps).toBe(0);
    await expect(streams.admitCatchUp()).resolves.toBeInstanceOf(Function);
  });

  it('hands a freed catch-up slot to the catch-up waiting longest', async () => {
    const { limits: streams, refused } = limits({ maxClients: 10, maxClientsPerAddress: 10, maxCatchUps: 1, maxCatchUpWaitMs: 60_000 });
    const release = await streams.admitCatchUp();
    const admitted: string[] = [];
    const first = streams.admitCatchUp().then((releaseFirst) => (admitted.push('first'), releaseFirst));
    const second = streams.admitCatchUp().then((releaseSecond) => (admitted.push('second'), releaseSecond));
    release();
    (await first)();
    (await second)();
    expect(admitted).toEqual(['first', 'second']);
    expect(streams.runningCatchUps).toBe(0);
    expect(refused).toEqual([]);
  });
});
