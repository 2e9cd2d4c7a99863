import { describe, expect, it } from '@jest/globals';
import { TokenBuckets } from './token-buckets';

describe('TokenBuckets', () => {
  it('lets a client make `burst` requests at once, then refuses with the seconds until the next token', () => {
    const buckets = new TokenBuckets(0.5, 3, 10);
    expect([0, 0, 0].map(() => buckets.take('a', 1_000))).toEqual([0, 0, 0]);
    expect(buckets.take('a', 1_000)).toBe(2);
  });

  it('refills at `perSecond`, never past `burst`', () => {
    const buckets = new TokenBuckets(10, 2, 10);
    buckets.take('a', 0);
    buckets.take('a', 0);
    expect(buckets.take('a', 50)).toBe(1);
    expect(buckets.take('a', 150)).toBe(0);
    // An hour idle fills the bucket to 2, not to 36,000.
    expect([0, 0, 0].map(() => buckets.take('a', 3_600_150))).toEqual([0, 0, 1]);
  });

  it('keeps a bucket per client', () => {
    const buckets = new TokenBuckets(1, 1, 10);
    expect(buckets.take('a', 0)).toBe(0);
    expect(buckets.take('a', 0)).toBe(1);
    expect(buckets.take('b', 0)).toBe(0);
  });

  it('remembers at most `maxClients`, dropping clients unseen longest and keeping those seen again', () => {
    const buckets = new TokenBuckets(1, 1, 4);
    for (const client of ['a', 'b']) buckets.take(client, 0);
    for (const client of ['c', 'a', 'd', 'e']) buckets.take(client, 0);
    expect(buckets.clientCount).toBeLessThanOrEqual(4);
    // 'a' was seen again: kept, still empty. 'b' was unseen since: dropped, it starts full.
    expect(buckets.take('a', 0)).toBe(1);
    expect(buckets.take('b', 0)).toBe(0);
  });

  it('never holds more than `maxClients` buckets however many clients come', () => {
    const buckets = new TokenBuckets(1, 1, 100);
    for (let n = 0; n < 10_000; n += 1) buckets.take(`client-${n}`, 0);
    expect(buckets.clientCount).toBeLessThanOrEqual(100);
  });
});
