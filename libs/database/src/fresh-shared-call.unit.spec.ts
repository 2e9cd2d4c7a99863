import { describe, expect, test } from '@jest/globals';
import { freshSharedCall } from './fresh-shared-call';

/** A call whose answers the test releases one by one: call n answers n. */
function controlledCalls() {
  const releases: (() => void)[] = [];
  let started = 0;
  const call = () => {
    const number = ++started;
    return new Promise<number>((resolve) => releases.push(() => resolve(number)));
  };
  return { call, started: () => started, release: (index: number) => releases[index]() };
}

/** Past the turn in which a shared call starts. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('freshSharedCall', () => {
  test('callers of one turn share one call, which starts after they asked', async () => {
    const calls = controlledCalls();
    const shared = freshSharedCall(calls.call);
    const answers = Promise.all([shared(), shared(), shared()]);
    expect(calls.started()).toBe(0);
    await settled();
    expect(calls.started()).toBe(1);
    calls.release(0);
    expect(await answers).toEqual([1, 1, 1]);
  });

  test('a caller that finds a call in flight is served by the next one, which starts after it asked', async () => {
    const calls = controlledCalls();
    const shared = freshSharedCall(calls.call);
    const first = shared();
    await settled();
    const later = [shared(), shared()];
    expect(calls.started()).toBe(1);
    calls.release(0);
    expect(await first).toBe(1);
    await settled();
    expect(calls.started()).toBe(2);
    const afterSecondStarted = shared();
    calls.release(1);
    expect(await Promise.all(later)).toEqual([2, 2]);
    await settled();
    calls.release(2);
    expect(await afterSecondStarted).toBe(3);
    expect(calls.started()).toBe(3);
  });

  test('a failed call fails its callers only; the next caller gets a new call', async () => {
    let attempt = 0;
    const shared = freshSharedCall(() => (++attempt === 1 ? Promise.reject(new Error('lost')) : Promise.resolve(attempt)));
    await expect(shared()).rejects.toThrow('lost');
    expect(await shared()).toBe(2);
  });

  test('callers queued behind a failed call are served by the next call', async () => {
    let attempt = 0;
    let failFirst!: (error: Error) => void;
    const shared = freshSharedCall(() => (++attempt === 1 ? new Promise<number>((_, reject) => (failFirst = reject)) : Promise.resolve(attempt)));
    const first = shared();
    await settled();
    const queued = shared();
    failFirst(new Error('lost'));
    await expect(first).rejects.toThrow('lost');
    expect(await queued).toBe(2);
  });
});
