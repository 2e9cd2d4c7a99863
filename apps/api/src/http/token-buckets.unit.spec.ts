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

  it('remembers at most `maxClients`, forgetting the one unseen longest', () => {
    const buckets = new TokenBuckets(1, 1, 2);
    buckets.take('a', 0);
    buckets.take('b', 0);
    buckets.take('a', 0);
    buckets.take('c', 0);
    expect(buckets.clientCount).toBe(2);
    // 'b' was forgotten and starts full; 'a' was kept and is still empty.
    expect(buckets.take('b', 0)).toBe(0);
    expect(buckets.take('c', 0)).toBe(1);
  });
});
