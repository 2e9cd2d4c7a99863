import { describe, expect, test } from '@jest/globals';
import type { BatchControl, LogRecord, PartitionBatch } from './command-log';
import { PartitionWorkers, type PartitionFlow } from './partition-workers';

const OPTIONS = { maxQueuedBytes: 1_000, concurrency: 4, retryDelayMs: 1 };

function batchOf(partition: number, from: number, count: number): PartitionBatch {
  const records: LogRecord[] = Array.from({ length: count }, (_, index) => ({
    partition,
    offset: from + index,
    timestamp: 0,
    key: null,
    value: Buffer.from('0123456789'),
    headers: {},
  }));
  return { topic: 'commands', partition, records, highWatermark: from + count };
}

/** A promise that the test resolves: a handler held until then. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

function recordingFlow() {
  const calls: string[] = [];
  const flow: PartitionFlow = {
    pause: (partition) => void calls.push(`pause ${partition}`),
    resume: (partition) => void calls.push(`resume ${partition}`),
    seek: (partition, offset) => void calls.push(`seek ${partition} ${offset}`),
    heartbeat: () => Promise.resolve(),
  };
  return { flow, calls };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 5));
const offsets = (batch: PartitionBatch) => batch.records.map((record) => record.offset);

describe('PartitionWorkers: fetching apart from handling', () => {
  test('a partition whose batch is slow holds only itself: the others are handled meanwhile', async () => {
    const slow = gate();
    const handled: string[] = [];
    const workers = new PartitionWorkers(
      async (batch) => {
        if (batch.partition === 0) await slow.opened;
        handled.push(`${batch.partition}:${batch.records[0].offset}`);
      },
      recordingFlow().flow,
      OPTIONS,
    );
    workers.offer(batchOf(0, 0, 10), 0);
    workers.offer(batchOf(1, 0, 10), 0);
    workers.offer(batchOf(1, 10, 10), 10);
    workers.offer(batchOf(2, 0, 10), 0);
    await settled();
    expect(handled).toEqual(['1:0', '2:0', '1:10']);
    slow.open();
    await settled();
    expect(handled).toEqual(['1:0', '2:0', '1:10', '0:0']);
  });

  test("a partition's batches are handled one at a time, in the order they were fetched; what was fetched meanwhile comes next as one batch", async () => {
    const handled: number[][] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const workers = new PartitionWorkers(
      async (batch) => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await settled();
        handled.push(offsets(batch));
        concurrent -= 1;
      },
      recordingFlow().flow,
      { ...OPTIONS, maxQueuedBytes: 1_000 },
    );
    for (let from = 0; from < 50; from += 10) workers.offer(batchOf(3, from, 10), from);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(handled).toEqual([offsets(batchOf(3, 0, 10)), offsets(batchOf(3, 10, 40))]);
    expect(maxConcurrent).toBe(1);
  });

  test('a queue past maxQueuedBytes pauses its partition, and fetching resumes once the worker takes the queue', async () => {
    const held = gate();
    const { flow, calls } = recordingFlow();
    // Records of 10 bytes: past 20 bytes, the third queued batch pauses the partition.
    const workers = new PartitionWorkers(() => held.opened, flow, { ...OPTIONS, maxQueuedBytes: 20 });
    workers.offer(batchOf(0, 0, 1), 0); // taken by the worker at once
    await settled();
    workers.offer(batchOf(0, 1, 1), 1);
    workers.offer(batchOf(0, 2, 1), 2);
    expect(calls).toEqual([]);
    workers.offer(batchOf(0, 3, 1), 3);
    expect(calls).toEqual(['pause 0']);
    held.open();
    await settled();
    expect(calls).toEqual(['pause 0', 'resume 0']);
  });

  test('a seek drops what was queued, ends the current batch, and refuses batches fetched before it', async () => {
    const handled: number[][] = [];
    const { flow, calls } = recordingFlow();
    let sought = false;
    const workers = new PartitionWorkers(
      async (batch, control) => {
        handled.push(offsets(batch));
        if (!sought) {
          sought = true;
          control.seek(5);
          expect(control.isActive()).toBe(false);
        }
        await settled();
      },
      flow,
      OPTIONS,
    );
    workers.offer(batchOf(0, 0, 10), 0);
    expect(workers.offer(batchOf(0, 10, 10), 10)).toBe(true);
    await settled();
    expect(calls).toEqual(['seek 0 5']);
    expect(workers.queued().get(0)).toBe(0);
    // Fetched before the seek took effect: from 20 on, or from 10 again.
    expect(workers.offer(batchOf(0, 20, 10), 20)).toBe(false);
    expect(workers.offer(batchOf(0, 10, 10), 10)).toBe(false);
    expect(workers.offer(batchOf(0, 5, 10), 5)).toBe(true);
    await settled();
    await settled();
    expect(handled).toEqual([offsets(batchOf(0, 0, 10)), offsets(batchOf(0, 5, 10))]);
  });

  test('without a seek, a batch may start past the last one (records the consumer filtered) but not before it', () => {
    const workers = new PartitionWorkers(() => new Promise(() => undefined), recordingFlow().flow, { ...OPTIONS, maxQueuedBytes: 1_000 });
    expect(workers.offer(batchOf(0, 0, 10), 0)).toBe(true);
    expect(workers.offer(batchOf(0, 12, 10), 12)).toBe(true);
    expect(workers.offer(batchOf(0, 15, 10), 15)).toBe(false);
  });

  test('a reassignment drops every queue and deactivates the batches being handled; a seek then says where each partition goes on', async () => {
    const controls: BatchControl[] = [];
    const { flow, calls } = recordingFlow();
    const workers = new PartitionWorkers(
      (_batch, control) => {
        controls.push(control);
        return new Promise(() => undefined);
      },
      flow,
      OPTIONS,
    );
    workers.offer(batchOf(0, 0, 10), 0);
    workers.offer(batchOf(0, 10, 10), 10);
    workers.offer(batchOf(1, 0, 10), 0);
    await settled();
    expect(controls.map((control) => control.isActive())).toEqual([true, true]);
    workers.reassign();
    expect(controls.map((control) => control.isActive())).toEqual([false, false]);
    expect(workers.queued()).toEqual(
      new Map([
        [0, 0],
        [1, 0],
      ]),
    );
    // Until the stored offsets are read, a partition takes what the consumer fetches.
    expect(workers.offer(batchOf(1, 0, 10), 0)).toBe(true);
    workers.seek(1, 4);
    expect(calls).toEqual(['seek 1 4']);
    expect(workers.offer(batchOf(1, 0, 10), 0)).toBe(false);
  });

  test('no more than `concurrency` batches are handled at once, over all partitions', async () => {
    let concurrent = 0;
    let maxConcurrent = 0;
    const workers = new PartitionWorkers(
      async () => {
        concurrent += 1;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        await settled();
        concurrent -= 1;
      },
      recordingFlow().flow,
      { ...OPTIONS, concurrency: 2 },
    );
    for (let partition = 0; partition < 6; partition += 1) workers.offer(batchOf(partition, 0, 1), 0);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(maxConcurrent).toBe(2);
  });

  test('a handler that throws: its batch is fetched again from its first offset, and the error is reported', async () => {
    const errors: string[] = [];
    const { flow, calls } = recordingFlow();
    const workers = new PartitionWorkers(() => Promise.reject(new Error('boom')), flow, {
      ...OPTIONS,
      onHandlerError: (partition, error) => errors.push(`${partition}: ${(error as Error).message}`),
    });
    workers.offer(batchOf(2, 30, 5), 30);
    workers.offer(batchOf(2, 35, 5), 35);
    await settled();
    expect(errors).toEqual(['2: boom']);
    expect(calls).toEqual(['seek 2 30']);
    expect(workers.queued().get(2)).toBe(0);
  });

  test('stop drops the queues, deactivates the batch being handled and waits for it, within its bound', async () => {
    let control: BatchControl | null = null;
    const handled: number[] = [];
    const workers = new PartitionWorkers(
      async (batch, given) => {
        control = given;
        handled.push(batch.records[0].offset);
        while (given.isActive()) await settled();
      },
      recordingFlow().flow,
      OPTIONS,
    );
    workers.offer(batchOf(0, 0, 1), 0);
    workers.offer(batchOf(0, 1, 1), 1);
    await settled();
    await workers.stop(1_000);
    expect(control!.isActive()).toBe(false);
    expect(handled).toEqual([0]);
    expect(workers.offer(batchOf(0, 2, 1), 2)).toBe(false);

    const stuck = new PartitionWorkers(() => new Promise(() => undefined), recordingFlow().flow, OPTIONS);
    stuck.offer(batchOf(0, 0, 1), 0);
    const stopping = Date.now();
    await stuck.stop(20);
    expect(Date.now() - stopping).toBeLessThan(1_000);
  });
});
