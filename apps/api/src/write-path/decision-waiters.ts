import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DecisionNotifications, DecisionRepository, type DecisionRecord } from '@timeline/database';

/** A decision as a waiter gets it, and when the notification naming its command arrived (`performance.now()`). */
export interface NotifiedDecision {
  decision: DecisionRecord;
  notifiedAt: number;
}

type Waiter = (decided: NotifiedDecision | null) => void;

/**
 * Requests waiting for the projector's decision on their command. The
 * process's one LISTEN connection serves them all. Most notifications carry
 * the decisions themselves; those they only name are fetched together, in one
 * query per burst of notifications.
 */
@Injectable()
export class DecisionWaiters implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DecisionWaiters.name);
  private readonly waiters = new Map<string, Waiter[]>();
  /** Command ids to fetch the decisions of, with when their notification arrived. */
  private readonly toFetch = new Map<string, number>();
  private fetchScheduled = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly notifications: DecisionNotifications,
    private readonly decisions: DecisionRepository,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.notifications.subscribe({
      decided: (ids, carried) => {
        const notifiedAt = performance.now();
        for (const decision of carried) this.settle(decision.commandId, { decision, notifiedAt });
        this.fetchSoon(ids.filter((id) => this.waiters.has(id)));
      },
      reconnected: () => this.fetchSoon([...this.waiters.keys()]),
    });
  }

  onApplicationShutdown(): void {
    for (const id of [...this.waiters.keys()]) this.settle(id, null);
    this.unsubscribe?.();
  }

  /** Resolves with the decision, or with null when `timeoutMs` passes first. Register before appending. */
  wait(commandId: string, timeoutMs: number): Promise<NotifiedDecision | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.remove(commandId, waiter), timeoutMs);
      const waiter: Waiter = (decided) => {
        clearTimeout(timer);
        resolve(decided);
      };
      this.waiters.set(commandId, [...(this.waiters.get(commandId) ?? []), waiter]);
    });
  }

  cancel(commandId: string): void {
    this.settle(commandId, null);
  }

  private remove(commandId: string, waiter: Waiter): void {
    const rest = (this.waiters.get(commandId) ?? []).filter((other) => other !== waiter);
    if (rest.length) this.waiters.set(commandId, rest);
    else this.waiters.delete(commandId);
    waiter(null);
  }

  private settle(commandId: string, decided: NotifiedDecision | null): void {
    const waiting = this.waiters.get(commandId) ?? [];
    this.waiters.delete(commandId);
    for (const waiter of waiting) waiter(decided);
  }

  private fetchSoon(commandIds: string[]): void {
    const notifiedAt = performance.now();
    for (const id of commandIds) if (!this.toFetch.has(id)) this.toFetch.set(id, notifiedAt);
    if (this.fetchScheduled || this.toFetch.size === 0) return;
    this.fetchScheduled = true;
    setImmediate(() => void this.fetchDecided());
  }

  private async fetchDecided(): Promise<void> {
    const notified = new Map(this.toFetch);
    this.toFetch.clear();
    try {
      for (const decision of await this.decisions.findByCommandIds([...notified.keys()])) {
        this.settle(decision.commandId, { decision, notifiedAt: notified.get(decision.commandId)! });
      }
    } catch (error) {
      // Waiters not settled here time out and look the decision up themselves.
      this.logger.warn(`could not fetch decisions: ${(error as Error).message}`);
    } finally {
      this.fetchScheduled = false;
      if (this.toFetch.size > 0) this.fetchSoon([]);
    }
  }
}
