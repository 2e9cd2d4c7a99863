/** Why an append failed, and whether its record may be in the log all the same. */
export class AppendFailed extends Error {
  constructor(
    message: string,
    /** False: the record was never handed to Kafka, a retry cannot duplicate it. */
    readonly mayHaveBeenRecorded: boolean,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/** An append refused at once because `maxQueued` records wait already: never handed to Kafka. */
export class AppendQueueFull extends AppendFailed {
  constructor(queued: number) {
    super(`${queued} records wait for the log already`, false);
  }
}

export interface GroupCommitOptions {
  /**
   * How long an append that finds no produce call in flight waits for others to share its call. 0: it
   * leaves once the current turn of the event loop is over (appends made in the same turn share it).
   * Appends that arrive while a call is in flight always wait for it and share the next.
   */
  lingerMs: number;
  /** Records per send at most. */
  maxBatch: number;
  /** Bytes per send at most (a record or group larger than this goes alone). */
  maxBatchBytes?: number;
  /** Records waiting at most; an append past it fails at once. */
  maxQueued?: number;
  /** An append not acknowledged within this fails; one still waiting is then never sent. */
  timeoutMs?: number;
}

/** Below the commands topic's max.message.bytes (COMMANDS_MAX_MESSAGE_BYTES), with room for one large record. */
export const DEFAULT_APPEND_LIMITS = { maxBatchBytes: 1_048_576, maxQueued: 10_000, timeoutMs: 30_000 };

/** An acknowledged append: when the produce request that carried it was sent (`performance.now()`). */
export interface Appended {
  sentAt: number;
}

/** Records added together: they go in the same send, and are acknowledged or fail together. */
interface Pending<T> {
  items: T[];
  bytes: number;
  settle: (outcome: Appended | AppendFailed) => void;
}

/**
 * Group commit: appends that arrive while a flush is being prepared or is in
 * flight share the next produce call. A batch leaves after `lingerMs` (0: at
 * the end of the current turn of the event loop) or when the call in flight
 * returns, or at once when it reaches `maxBatch` records or `maxBatchBytes`; only one produce
 * call is in flight at a time, as the idempotent producer wants. Memory and
 * waiting are bounded: at most `maxQueued` records wait, and every append is
 * answered within `timeoutMs`.
 */
export class GroupCommit<T> {
  private pending: Pending<T>[] = [];
  /** Cancels the pending flush of the linger, if one is scheduled. */
  private timer: { cancel(): void } | null = null;
  private inFlight: Promise<void> | null = null;
  private inFlightCount = 0;
  private readonly options: Required<GroupCommitOptions>;

  constructor(
    private readonly send: (items: T[]) => Promise<void>,
    options: GroupCommitOptions,
    private readonly sizeOf: (item: T) => number = () => 0,
  ) {
    this.options = { ...DEFAULT_APPEND_LIMITS, ...options };
  }

  add(item: T): Promise<Appended> {
    return this.addAll([item]);
  }

  /**
   * Adds records that must not be split: all are refused, or all go in one send (a group larger than
   * `maxBatch` or `maxBatchBytes` goes alone). Records of one key thus land in the log side by side.
   */
  addAll(items: T[]): Promise<Appended> {
    const queued = this.queuedRecords();
    if (queued + items.length > this.options.maxQueued) return Promise.reject(new AppendQueueFull(queued));
    return new Promise<Appended>((resolve, reject) => {
      let sent = false;
      const entry: Pending<T> = {
        items,
        bytes: items.reduce((total, item) => total + this.sizeOf(item), 0),
        settle: (outcome) => {
          clearTimeout(deadline);
          if (outcome instanceof AppendFailed) reject(outcome);
          else resolve(outcome);
        },
      };
      const deadline = setTimeout(() => {
        const waiting = this.pending.indexOf(entry);
        if (waiting >= 0) this.pending.splice(waiting, 1);
        else sent = true;
        // Settled once: a later outcome of the send no longer reaches the caller.
        const late = entry.settle;
        entry.settle = () => undefined;
        late(new AppendFailed(`not acknowledged by the log within ${this.options.timeoutMs} ms`, sent));
      }, this.options.timeoutMs);
      this.pending.push(entry);
      this.schedule();
    });
  }

  /** Records waiting for the next send, and records of the send in flight. */
  get state(): { queued: number; inFlight: number } {
    return { queued: this.queuedRecords(), inFlight: this.inFlightCount };
  }

  private queuedRecords(): number {
    return this.pending.reduce((total, entry) => total + entry.items.length, 0);
  }

  /** Resolves when everything added so far has been sent (or has failed). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight) {
      if (this.timer) {
        this.timer.cancel();
        this.timer = null;
        this.flush();
      }
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight) return; // the flush that follows the one in flight takes it
    if (this.queuedRecords() >= this.options.maxBatch || this.pendingBytes() >= this.options.maxBatchBytes) {
      this.timer?.cancel();
      this.timer = null;
      this.flush();
    } else if (!this.timer) {
      this.timer = this.afterLinger(() => {
        this.timer = null;
        this.flush();
      });
    }
  }

  /** setTimeout(0) waits about a millisecond; a linger of 0 leaves right after this turn of the event loop. */
  private afterLinger(run: () => void): { cancel(): void } {
    if (this.options.lingerMs === 0) {
      const immediate = setImmediate(run);
      return { cancel: () => clearImmediate(immediate) };
    }
    const timeout = setTimeout(run, this.options.lingerMs);
    return { cancel: () => clearTimeout(timeout) };
  }

  private pendingBytes(): number {
    return this.pending.reduce((total, entry) => total + entry.bytes, 0);
  }

  /** The next batch: up to maxBatch records and maxBatchBytes, at least one group of records. */
  private takeBatch(): Pending<T>[] {
    let bytes = 0;
    let records = 0;
    let count = 0;
    while (count < this.pending.length) {
      const next = this.pending[count];
      const fits = records + next.items.length <= this.options.maxBatch && bytes + next.bytes <= this.options.maxBatchBytes;
      if (count > 0 && !fits) break;
      bytes += next.bytes;
      records += next.items.length;
      count += 1;
    }
    return this.pending.splice(0, count);
  }

  private flush(): void {
    const batch = this.takeBatch();
    if (batch.length === 0) return;
    const items = batch.flatMap((entry) => entry.items);
    this.inFlightCount = items.length;
    const appended: Appended = { sentAt: performance.now() };
    this.inFlight = this.send(items).then(
      () => batch.forEach((entry) => entry.settle(appended)),
      (error) => {
        const failed = new AppendFailed(`the log did not take the records: ${(error as Error)?.message ?? error}`, true, error);
        batch.forEach((entry) => entry.settle(failed));
      },
    );
    void this.inFlight.finally(() => {
      this.inFlight = null;
      this.inFlightCount = 0;
      // What arrived during the flight has waited long enough: send it now.
      if (this.pending.length > 0) this.flush();
    });
  }
}
