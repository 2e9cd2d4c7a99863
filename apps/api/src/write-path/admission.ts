import { Injectable } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { ApiMetrics, type RefusalReason } from '../observability/api-metrics';
import { Problem } from '@timeline/problems';

/** Seconds a caller should wait before retrying a request refused for load (here, and when shed: http/load-shedding.ts). */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Admission control of writes in this api process. Every command holds a slot
 * from before it is appended until it is answered (decided, 202, or failed);
 * past `ADMISSION_MAX_WAITING` a write is refused at once with 503
 * `overloaded`, before anything is appended, so it is certainly not recorded.
 * Without it, past capacity every caller waits out DECISION_TIMEOUT_MS and gets
 * a 202 while the backlog (and everyone's latency) grows.
 */
@Injectable()
export class Admission {
  private waiting = 0;
  private refused = 0;
  readonly maxWaiting: number;

  constructor(
    config: TimelineConfig,
    private readonly metrics: ApiMetrics,
  ) {
    this.maxWaiting = config.admission.maxWaiting;
    metrics.countWaitingCommandsWith(() => this.waiting);
  }

  /** Commands admitted and not yet answered. */
  get waitingCommands(): number {
    return this.waiting;
  }

  /** Commands refused since this process started, for the ops page. */
  get refusedCommands(): number {
    return this.refused;
  }

  /** Runs `work` holding `commands` slots, or throws `overloaded` when they are not free. */
  async whileAdmitted<T>(commands: number, work: () => Promise<T>): Promise<T> {
    if (this.waiting + commands > this.maxWaiting) {
      throw this.refuse('waiting_decisions', commands, `${this.waiting} commands wait for their decision in this process already`);
    }
    this.waiting += commands;
    try {
      return await work();
    } finally {
      this.waiting -= commands;
    }
  }

  /** The 503 of commands refused before they were appended, counted by reason. */
  refuse(reason: RefusalReason, commands: number, why: string): Problem {
    this.refused += commands;
    this.metrics.commandsRefused(reason, commands);
    return new Problem(
      'overloaded',
      `the service is over capacity (${why}); the write was not recorded and it is safe to retry after Retry-After`,
      { retryable: true, recorded: false },
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
}
