import { Injectable, Scope } from '@nestjs/common';
import { DecisionNotifications } from './decision-notifications';

/**
 * Lets an outbox reader sleep between polls and wakes it early when a
 * projector batch commits (the batch's NOTIFY on the decisions channel also
 * means "new outbox rows", visible by the time the notice arrives). Polling
 * stays the fallback for notices lost while the listener reconnects.
 * Transient: each reader (the stream feed, the relay) gets one of its own.
 */
@Injectable({ scope: Scope.TRANSIENT })
export class OutboxSignal {
  private wakeUp: (() => void) | null = null;
  /** A wake-up that came while nobody waited: the next wait returns at once. */
  private pending = false;
  private stopped = false;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly notifications: DecisionNotifications) {}

  /** Wakes the reader on every committed batch from now on. */
  start(): void {
    this.unsubscribe ??= this.notifications.subscribe({ decided: () => this.wake(), reconnected: () => this.wake() });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    this.wake();
  }

  /** True when a wake-up came while nobody waited: the reader was busy when a batch committed. */
  get woken(): boolean {
    return this.pending;
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
