import { describe, expect, test } from '@jest/globals';
import { replayCovers, replicaLag } from './replica-lag';

const replica = (replayed: bigint, sinceLastReplayedCommitSeconds: number | null) => ({
  inRecovery: true,
  replayed,
  received: replayed,
  sinceLastReplayedCommitSeconds,
  walBlockSize: 8_192,
});

describe('replicaLag', () => {
  test('an idle replica that has replayed all the primary wrote is 0 s and 0 bytes behind, however old its last commit', () => {
    expect(replicaLag({ position: 1_000n, sampledAt: 50_000 }, replica(1_000n, 3_600), 50_010, null)).toEqual({ bytes: 0, seconds: 0, caughtUpAt: 50_000 });
  });

  test('a replica past the position the primary had when sampled is caught up too', () => {
    expect(replicaLag({ position: 1_000n, sampledAt: 50_000 }, replica(1_200n, 0.1), 50_010, 10_000)).toEqual({ bytes: 0, seconds: 0, caughtUpAt: 50_000 });
  });

  test('behind: the time since it was last seen caught up, when that is less than the age of its last replayed commit', () => {
    // Idle for an hour, then a write it has not replayed (replay paused): 3 s behind, not an hour.
    expect(replicaLag({ position: 2_000n, sampledAt: 53_000 }, replica(1_000n, 3_603), 53_010, 50_010)).toEqual({
      bytes: 1_000,
      seconds: 3,
      caughtUpAt: 50_010,
    });
  });

  test('behind under steady writes: the age of its last replayed commit, when that is less', () => {
    expect(replicaLag({ position: 2_000n, sampledAt: 53_000 }, replica(1_900n, 0.02), 53_010, 50_010)).toEqual({
      bytes: 100,
      seconds: 0.02,
      caughtUpAt: 50_010,
    });
  });

  test('a replay position on a page boundary covers the next page header, where an idle primary points its insert position', () => {
    const boundary = 3n * 8_192n;
    expect(replicaLag({ position: boundary + 24n, sampledAt: 50_000 }, replica(boundary, 600), 50_010, null)).toEqual({
      bytes: 0,
      seconds: 0,
      caughtUpAt: 50_000,
    });
    expect(replayCovers(boundary, boundary + 40n, 8_192)).toBe(true);
    // A record after the header ends at least a record header further on: that is not covered.
    expect(replayCovers(boundary, boundary + 48n, 8_192)).toBe(false);
    expect(replayCovers(boundary + 8n, boundary + 32n, 8_192)).toBe(false);
  });

  test('behind, never seen caught up and no commit replayed: seconds unknown', () => {
    expect(replicaLag({ position: 2_000n, sampledAt: 53_000 }, replica(1_000n, null), 53_010, null).seconds).toBeNull();
  });
});
