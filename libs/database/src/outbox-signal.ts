import { DecisionNotifications } from './decision-notifications';

/**
 * Lets an outbox reader sleep between polls and wakes it early when a
 * projector batch commits (the batch's NOTIFY on the decisions channel also
 * means "new outbox rows", visible by the time the notice arrives). Polling
 * stays the fallback for notices lost while the listener reconnects.
 */
export class OutboxSignal {
  private readonly notifications: DecisionNotifications;
  private wakeUp: (() => void) | null = null;
  /** A wake-up that came while nobody waited: the next wait returns at once. */
  private pending = false;
  private stopped = false;

  constructor(databaseUrl: string, onError: (error: Error) => void) {
    this.notifications = new DecisionNotifications(databaseUrl, () => this.wake(), () => this.wake(), onError);
  }

  start(): Promise<void> {
    return this.notifications.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.notifications.stop();
  }

  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.pending = true;
  }

  /** Resolves after `ms`, or sooner on a wake-up. */
  wait(ms: number): Promise<void> {
    if (this.stopped || this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}
