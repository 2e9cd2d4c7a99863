import { describe, expect, test } from '@jest/globals';
import { AppendQueueFull, GroupCommit } from './group-commit';

function recordingSender(delayMs = 5) {
  const calls: number[][] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const send = async (items: number[]) => {
    concurrent += 1;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    calls.push(items);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    concurrent -= 1;
  };
  return { send, calls, maxConcurrent: () => maxConcurrent };
}

describe('GroupCommit', () => {
  test('appends arriving together go out in one send', async () => {
    const sender = recordingSender();
    const group = new GroupCommit(sender.send, { lingerMs: 2, maxBatch: 100 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => group.add(n)));
    expect(sender.calls).toEqual([[1, 2, 3, 4, 5]]);
  });

  test('with no linger, an append that finds nothing in flight leaves after this turn of the event loop, with the appends of the same turn', async () => {
    const sender = recordingSender();
    const group = new GroupCommit(sender.send, { lingerMs: 0, maxBatch: 100 });
    const appends = [1, 2, 3].map((n) => group.add(n));
    expect(sender.calls).toEqual([]);
    // setImmediate callbacks run in order: the flush scheduled by the first append has run before this one.
    await new Promise((resolve) => setImmediate(resolve));
    expect(sender.calls).toEqual([[1, 2, 3]]);
    await Promise.all(appends);
  });

  test('an acknowledged append says when its produce call was sent', async () => {
    const sender = recordingSender();
    const group = new GroupCommit(sender.send, { lingerMs: 0, maxBatch: 100 });
    const calledAt = performance.now();
    const { sentAt } = await group.add(1);
    expect(sentAt).toBeGreaterThanOrEqual(calledAt);
    expect(sentAt).toBeLessThanOrEqual(performance.now());
  });

  test('a full batch leaves at once and batches never exceed the bound', async () => {
    const sender = recordingSender();
    const group = new GroupCommit(sender.send, { lingerMs: 1_000, maxBatch: 3 });
    const started = Date.now();
    await Promise.all([1, 2, 3, 4, 5, 6].map((n) => group.add(n)));
    expect(Date.now() - started).toBeLessThan(500);
    expect(sender.calls).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });

  test('one send in flight at a time; what arrives meanwhile shares the next send, in order', async () => {
    const sender = recordingSender(20);
    const group = new GroupCommit(sender.send, { lingerMs: 0, maxBatch: 100 });
    const first = group.add(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const rest = [2, 3, 4].map((n) => group.add(n));
    await Promise.all([first, ...rest]);
    expect(sender.maxConcurrent()).toBe(1);
    expect(sender.calls).toEqual([[1], [2, 3, 4]]);
  });

  test('a failed send rejects every append in its batch', async () => {
    const group = new GroupCommit<number>(async () => Promise.reject(new Error('broker down')), { lingerMs: 1, maxBatch: 10 });
    const results = await Promise.allSettled([group.add(1), group.add(2)]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
  });

  test('drain waits for everything added', async () => {
    const sender = recordingSender();
    const group = new GroupCommit(sender.send, { lingerMs: 50, maxBatch: 10 });
    void group.add(1);
    void group.add(2);
    await group.drain();
    expect(sender.calls.flat()).toEqual([1, 2]);
  });
});

describe('GroupCommit state', () => {
  test('counts records queued and in flight', async () => {
    let release: () => void = () => undefined;
    const group = new GroupCommit<number>(() => new Promise<void>((resolve) => (release = resolve)), { lingerMs: 0, maxBatch: 2 });
    const sent = [1, 2, 3].map((n) => group.add(n));
    expect(group.state).toEqual({ queued: 1, inFlight: 2 });
    release();
    await Promise.all(sent.slice(0, 2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(group.state).toEqual({ queued: 0, inFlight: 1 });
    release();
    await Promise.all(sent);
    expect(group.state).toEqual({ queued: 0, inFlight: 0 });
  });
});

describe('GroupCommit bounds', () => {
  const never = () => new Promise<void>(() => undefined);

  test('past maxQueued waiting records an append fails at once, as not recorded', async () => {
    const group = new GroupCommit<number>(never, { lingerMs: 0, maxBatch: 1, maxQueued: 2, timeoutMs: 200 });
    const earlier = [1, 2, 3].map((n) => group.add(n).catch((error: unknown) => error)); // 1 in flight, never answered; 2 and 3 wait
    const started = Date.now();
    await expect(group.add(4)).rejects.toMatchObject({ mayHaveBeenRecorded: false });
    expect(Date.now() - started).toBeLessThan(100);
    // The others are answered at their deadline.
    expect(await Promise.all(earlier)).toEqual([
      expect.objectContaining({ mayHaveBeenRecorded: true }),
      expect.objectContaining({ mayHaveBeenRecorded: false }),
      expect.objectContaining({ mayHaveBeenRecorded: false }),
    ]);
  });

  test('an append still waiting at its deadline fails as not recorded and is never sent', async () => {
    const sent: number[][] = [];
    let release = () => undefined as void;
    const send = (items: number[]) => {
      sent.push(items);
      return new Promise<void>((resolve) => (release = resolve));
    };
    const group = new GroupCommit<number>(send, { lingerMs: 0, maxBatch: 1, timeoutMs: 30 });
    const failureOf = (append: Promise<unknown>) =>
      append.then(
        () => null,
        (error: unknown) => error,
      );
    const inFlight = failureOf(group.add(1));
    await new Promise((resolve) => setTimeout(resolve, 5));
    const waiting = failureOf(group.add(2));
    expect(await waiting).toMatchObject({ mayHaveBeenRecorded: false });
    // The send in flight passed its deadline too: it may be in the log.
    expect(await inFlight).toMatchObject({ mayHaveBeenRecorded: true });
    release();
    await group.drain();
    expect(sent).toEqual([[1]]);
  });

  test('a failed send fails its appends as possibly recorded', async () => {
    const group = new GroupCommit<number>(async () => Promise.reject(new Error('NOT_ENOUGH_REPLICAS')), { lingerMs: 0, maxBatch: 10 });
    await expect(group.add(1)).rejects.toMatchObject({ mayHaveBeenRecorded: true, message: expect.stringMatching(/NOT_ENOUGH_REPLICAS/) });
  });

  test('batches are cut by bytes; a record larger than the cap goes alone', async () => {
    const sender = recordingSender();
    const group = new GroupCommit<number>(sender.send, { lingerMs: 5, maxBatch: 100, maxBatchBytes: 10 }, (n) => n);
    await Promise.all([4, 4, 4, 20, 3].map((n) => group.add(n)));
    expect(sender.calls).toEqual([[4, 4], [4], [20], [3]]);
  });

  test('records added together go in one send, never split by maxBatch; a group over it goes alone', async () => {
    const sender = recordingSender();
    const group = new GroupCommit(sender.send, { lingerMs: 5, maxBatch: 3 });
    await Promise.all([group.add(1), group.addAll([2, 3]), group.addAll([4, 5, 6, 7]), group.add(8)]);
    expect(sender.calls).toEqual([[1, 2, 3], [4, 5, 6, 7], [8]]);
  });

  test('records added together that do not all fit under maxQueued are all refused, as not recorded', async () => {
    const sender = recordingSender();
    const group = new GroupCommit<number>(sender.send, { lingerMs: 50, maxBatch: 10, maxQueued: 4 });
    const first = group.addAll([1, 2]);
    const refused = group.addAll([3, 4, 5]);
    await expect(refused).rejects.toBeInstanceOf(AppendQueueFull);
    await expect(refused).rejects.toMatchObject({ mayHaveBeenRecorded: false });
    await Promise.all([first, group.addAll([6, 7])]);
    expect(sender.calls).toEqual([[1, 2, 6, 7]]);
  });
});
