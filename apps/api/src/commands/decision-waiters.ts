import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DecisionNotifications, DecisionRepository, type DecisionRecord } from '@timeline/database';

type Waiter = (decision: DecisionRecord | null) => void;

/**
 * Requests waiting for the projector's decision on their command. The
 * process's one LISTEN connection serves them all; decisions named in a
 * notification are fetched together, in one query per burst of notifications.
 */
@Injectable()
export class DecisionWaiters implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(DecisionWaiters.name);
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly toFetch = new Set<string>();
  private fetchScheduled = false;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly notifications: DecisionNotifications,
    private readonly decisions: DecisionRepository,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.notifications.subscribe({
      decided: (ids) => this.fetchSoon(ids.filter((id) => this.waiters.has(id))),
      reconnected: () => this.fetchSoon([...this.waiters.keys()]),
    });
  }

  onApplicationShutdown(): void {
    for (const id of [...this.waiters.keys()]) this.settle(id, null);
    this.unsubscribe?.();
  }

  /** Resolves with the decision, or with null when `timeoutMs` passes first. Register before appending. */
  wait(commandId: string, timeoutMs: number): Promise<DecisionRecord | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.remove(commandId, waiter), timeoutMs);
      const waiter: Waiter = (decision) => {
        clearTimeout(timer);
        resolve(decision);
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

  private settle(commandId: string, decision: DecisionRecord | null): void {
    const waiting = this.waiters.get(commandId) ?? [];
    this.waiters.delete(commandId);
    for (const waiter of waiting) waiter(decision);
  }

  private fetchSoon(commandIds: string[]): void {
    for (const id of commandIds) this.toFetch.add(id);
    if (this.fetchScheduled || this.toFetch.size === 0) return;
    this.fetchScheduled = true;
    setImmediate(() => void this.fetchDecided());
  }

  private async fetchDecided(): Promise<void> {
    const ids = [...this.toFetch];
    this.toFetch.clear();
    try {
      for (const decision of await this.decisions.findByCommandIds(ids)) this.settle(decision.commandId, decision);
    } catch (error) {
      // Waiters not settled here time out and look the decision up themselves.
      this.logger.warn(`could not fetch decisions: ${(error as Error).message}`);
    } finally {
      this.fetchScheduled = false;
      if (this.toFetch.size > 0) this.fetchSoon([]);
    }
  }
}
