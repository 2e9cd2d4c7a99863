import type { BatchControl, PartitionBatch, PartitionBatchHandler } from './command-log';

/** What the workers ask of the consumer that fetches for them. */
export interface PartitionFlow {
  /** Stop fetching the partition (its queue is deep), and fetch it again. */
  pause(partition: number): void;
  resume(partition: number): void;
  /** Fetch the partition from `offset` next. */
  seek(partition: number, offset: number): void;
  heartbeat(): Promise<void>;
}

export interface PartitionWorkersOptions {
  /**
   * Bytes of fetched records waiting per partition (besides the batch being handled) past which its fetching
   * pauses. Generous on purpose: kafkajs fetches nothing from a broker whose partitions are all paused until
   * its fetch wait is over, so pausing in ordinary operation would add up to that wait to every record.
   */
  maxQueuedBytes: number;
  /** Batches handled at once, over all partitions. */
  concurrency: number;
  /** After a handler threw: how long before its batch is fetched again. */
  retryDelayMs: number;
  /** A handler that threw; its batch is fetched again. */
  onHandlerError?: (partition: number, error: unknown) => void;
}

interface PartitionState {
  /** Raised by every seek, assignment and stop: work of an older epoch is no longer this partition's. */
  epoch: number;
  queue: PartitionBatch[];
  queuedBytes: number;
  /** Where the next fetched batch starts; undefined: wherever the consumer fetches from. */
  nextFetch: number | undefined;
  /** Sought to `nextFetch` and no batch from there yet: batches fetched from elsewhere predate the seek. */
  sought: boolean;
  paused: boolean;
  running: Promise<void> | null;
}

/**
 * Everything queued for the partition as one batch: fetched while the last one was handled, it is handled
 * in one go, as a batch of one fetch would have been. The batches are contiguous (see `offer`).
 */
function takeQueued(state: PartitionState): PartitionBatch | undefined {
  const queued = state.queue.splice(0);
  state.queuedBytes = 0;
  if (queued.length <= 1) return queued[0];
  return { ...queued[queued.length - 1], records: queued.flatMap((batch) => batch.records) };
}

/**
 * Fetching apart from handling: each partition has a queue of fetched batches and one worker that handles
 * them in order, so a slow partition holds only itself while the consumer fetches the others ahead. What
 * was fetched while a batch was handled is handled next as one batch. A queue past `maxQueuedBytes` pauses
 * its partition's fetching until the worker takes it (back-pressure: a projector catching up on a long log). A seek drops what was queued and, by the offset
 * each batch was fetched from, also any batch still on its way from a fetch made before it; a new
 * assignment or a stop drops everything and tells the batches being handled that they are no longer active.
 */
export class PartitionWorkers {
  private readonly partitions = new Map<number, PartitionState>();
  private stopped = false;
  private busy = 0;
  private readonly waitingForTurn: (() => void)[] = [];

  constructor(
    private readonly handler: PartitionBatchHandler,
    private readonly flow: PartitionFlow,
    private readonly options: PartitionWorkersOptions,
  ) {}

  /**
   * A batch fetched from `fetchedOffset`: queued behind the partition's others and true, or dropped and
   * false when it was fetched from elsewhere than where the partition goes on (a fetch made before a seek).
   * Without a seek, a batch may start past the last one's end: the consumer steps over records it filters
   * (transaction markers) without showing them.
   */
  offer(batch: PartitionBatch, fetchedOffset: number): boolean {
    if (this.stopped || batch.records.length === 0) return false;
    const state = this.stateOf(batch.partition);
    if (state.nextFetch !== undefined && (state.sought ? fetchedOffset !== state.nextFetch : fetchedOffset < state.nextFetch)) return false;
    state.sought = false;
    state.queue.push(batch);
    state.queuedBytes += batchBytes(batch);
    state.nextFetch = batch.records[batch.records.length - 1].offset + 1;
    if (state.queuedBytes > this.options.maxQueuedBytes && !state.paused) {
      state.paused = true;
      this.flow.pause(batch.partition);
    }
    state.running ??= this.work(batch.partition, state);
    return true;
  }

  /**
   * The group is being reassigned: every queued batch is dropped and every batch being handled is no longer
   * active. Partitions start again wherever the consumer fetches them, until `seek` says where.
   */
  reassign(): void {
    for (const [partition, state] of this.partitions) this.dropQueue(partition, state, undefined);
  }

  /** The partition goes on from `offset`: what was queued is dropped, the batch being handled is no longer active. */
  seek(partition: number, offset: number): void {
    if (this.stopped) return;
    this.dropQueue(partition, this.stateOf(partition), offset);
    this.flow.seek(partition, offset);
  }

  /** Records queued per partition, not counting the batch being handled. */
  queued(): Map<number, number> {
    return new Map([...this.partitions].map(([partition, state]) => [partition, state.queue.reduce((sum, batch) => sum + batch.records.length, 0)]));
  }

  /**
   * Drops every queued batch and waits, at most `timeoutMs`, for the batches being handled to return
   * (they see they are no longer active and stop retrying).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.stopped = true;
    for (const [partition, state] of this.partitions) this.dropQueue(partition, state, undefined);
    this.waitingForTurn.splice(0).forEach((turn) => turn());
    const running = [...this.partitions.values()].flatMap((state) => (state.running ? [state.running] : []));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(running), timedOut]);
    clearTimeout(timer);
  }

  private stateOf(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      state = { epoch: 0, queue: [], queuedBytes: 0, nextFetch: undefined, sought: false, paused: false, running: null };
      this.partitions.set(partition, state);
    }
    return state;
  }

  private dropQueue(partition: number, state: PartitionState, nextFetch: number | undefined): void {
    state.epoch += 1;
    state.queue = [];
    state.queuedBytes = 0;
    state.nextFetch = nextFetch;
    state.sought = nextFetch !== undefined;
    if (state.paused) {
      state.paused = false;
      this.flow.resume(partition);
    }
  }

  private async work(partition: number, state: PartitionState): Promise<void> {
    try {
      for (let batch = takeQueued(state); batch && !this.stopped; batch = takeQueued(state)) {
        if (state.paused) {
          state.paused = false;
          this.flow.resume(partition);
        }
        await this.handle(batch, state);
      }
    } finally {
      state.running = null;
    }
  }

  private async handle(batch: PartitionBatch, state: PartitionState): Promise<void> {
    const epoch = state.epoch;
    const isActive = () => !this.stopped && state.epoch === epoch;
    const control: BatchControl = {
      isActive,
      seek: (offset) => {
        if (isActive()) this.seek(batch.partition, offset);
      },
      // A heartbeat refused (the group is rebalancing) is the consumer's to act on: its own loop meets it too.
      heartbeat: () => this.flow.heartbeat().catch(() => undefined),
    };
    await this.turn();
    try {
      if (!isActive()) return;
      await this.handler(batch, control);
      return;
    } catch (error) {
      this.options.onHandlerError?.(batch.partition, error);
    } finally {
      this.endTurn();
    }
    // Not skipped: fetched again after a pause, unless a seek or a reassignment came meanwhile.
    await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
    control.seek(batch.records[0].offset);
  }

  /** Waits until fewer than `concurrency` batches are being handled. */
  private async turn(): Promise<void> {
    while (this.busy >= this.options.concurrency && !this.stopped) await new Promise<void>((resolve) => this.waitingForTurn.push(resolve));
    this.busy += 1;
  }

  private endTurn(): void {
    this.busy -= 1;
    this.waitingForTurn.shift()?.();
  }
}

/** What a batch's records weigh in memory, near enough to bound a queue. */
function batchBytes(batch: PartitionBatch): number {
  return batch.records.reduce((total, record) => total + (record.value?.length ?? 0) + (record.key?.length ?? 0), 0);
}
