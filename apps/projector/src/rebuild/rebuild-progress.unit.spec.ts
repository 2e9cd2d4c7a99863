import { describe, expect, test } from '@jest/globals';
import { offsetsBehind, replayProgress, sameOffsets } from './rebuild-progress';

const offsets = (entries: [number, number][]) => new Map(entries);

describe('replay progress', () => {
  test('rate over the time since the previous sample, and the ETA it gives', () => {
    const progress = replayProgress(
      {
        at: 3_000,
        applied: offsets([
          [0, 4_000],
          [1, 2_000],
        ]),
        end: offsets([
          [0, 10_000],
          [1, 10_000],
        ]),
      },
      { at: 1_000, applied: 2_000 },
    );
    expect(progress).toEqual({ applied: 6_000, total: 20_000, recordsPerSecond: 2_000, etaSeconds: 7 });
  });

  test('no ETA without a rate; zero once caught up', () => {
    expect(replayProgress({ at: 0, applied: offsets([[0, 1]]), end: offsets([[0, 5]]) }, null).etaSeconds).toBeNull();
    expect(replayProgress({ at: 0, applied: offsets([[0, 5]]), end: offsets([[0, 5]]) }, null).etaSeconds).toBe(0);
  });

  test('records behind, per partition, never negative', () => {
    expect(
      offsetsBehind(
        offsets([
          [0, 3],
          [1, 9],
        ]),
        offsets([
          [0, 5],
          [1, 7],
          [2, 4],
        ]),
      ),
    ).toBe(6);
  });

  test('a partition missing on one side counts as offset 0', () => {
    expect(
      sameOffsets(
        offsets([[0, 3]]),
        offsets([
          [0, 3],
          [1, 0],
        ]),
      ),
    ).toBe(true);
    expect(
      sameOffsets(
        offsets([[0, 3]]),
        offsets([
          [0, 3],
          [1, 1],
        ]),
      ),
    ).toBe(false);
  });
});
