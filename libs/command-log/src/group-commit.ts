/**
 * Group commit: appends that arrive while a flush is being prepared or is in
 * flight share the next produce call. A batch leaves after `lingerMs`, or at
 * once when it reaches `maxBatch`; only one produce call is in flight at a
 * time, as the idempotent producer wants.
 */
export class GroupCommit<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private inFlightCount = 0;

  constructor(
    private readonly send: (items: T[]) => Promise<void>,
    private readonly options: { lingerMs: number; maxBatch: number },
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Records waiting for the next send, and records of the send in flight. */
  get state(): { queued: number; inFlight: number } {
    return { queued: this.pending.length, inFlight: this.inFlightCount };
  }

  /** Resolves when everything added so far has been sent (or has failed). */
  async drain(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
        this.flush();
      }
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.inFlight) return; // the flush that follows the one in flight takes it
    if (this.pending.length >= this.options.maxBatch) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.options.lingerMs);
    }
  }

  private flush(): void {
    const batch = this.pending.splice(0, this.options.maxBatch);
    if (batch.length === 0) return;
    this.inFlightCount = batch.length;
    this.inFlight = this.send(batch.map((entry) => entry.item)).then(
      () => batch.forEach((entry) => entry.resolve()),
      (error) => batch.forEach((entry) => entry.reject(error)),
    );
    void this.inFlight.finally(() => {
      this.inFlight = null;
      this.inFlightCount = 0;
      // What arrived during the flight has waited long enough: send it now.
      if (this.pending.length > 0) this.flush();
    });
  }
}
