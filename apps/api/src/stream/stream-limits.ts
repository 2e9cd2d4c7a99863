import type { RequestLimit } from '../observability/api-metrics';
import { Problem } from '@timeline/problems';

/** Seconds a refused stream client should wait: a slot frees only when another client leaves or catches up. */
const RETRY_AFTER_SECONDS = 5;

/** Gives back what `admit…` took; a second call does nothing. */
export type Release = () => void;

/**
 * Bounds on this process's SSE clients: open streams in all
 * (STREAM_MAX_CLIENTS) and per client (STREAM_MAX_CLIENTS_PER_ADDRESS), and
 * streams reading history at once (STREAM_MAX_CATCH_UPS; one past it waits up
 * to STREAM_CATCH_UP_WAIT_MS for a slot). A refusal is a problem thrown before
 * the stream opens.
 */
export class StreamLimits {
  private open = 0;
  private readonly openPerClient = new Map<string, number>();
  private catchUps = 0;
  /** Catch-ups waiting for a slot, oldest first; each is called with `true` when handed one. */
  private readonly catchUpWaiters: ((handedOver: boolean) => void)[] = [];

  constructor(
    private readonly bounds: { maxClients: number; maxClientsPerAddress: number; maxCatchUps: number; maxCatchUpWaitMs: number },
    private readonly onRefused: (limit: RequestLimit) => void,
  ) {}

  get openStreams(): number {
    return this.open;
  }

  get runningCatchUps(): number {
    return this.catchUps;
  }

  /** A stream slot for `client`, or 429 `rate-limited` past its own bound, 503 `overloaded` past the process's. */
  admitClient(client: string): Release {
    const ofClient = this.openPerClient.get(client) ?? 0;
    if (ofClient >= this.bounds.maxClientsPerAddress) {
      throw this.refuse('stream_clients_per_address', 'rate-limited', `this client has ${ofClient} streams open, STREAM_MAX_CLIENTS_PER_ADDRESS`);
    }
    if (this.open >= this.bounds.maxClients) {
      throw this.refuse('stream_clients', 'overloaded', `${this.open} streams are open, STREAM_MAX_CLIENTS`);
    }
    this.open += 1;
    this.openPerClient.set(client, ofClient + 1);
    return once(() => {
      this.open -= 1;
      const left = (this.openPerClient.get(client) ?? 1) - 1;
      if (left === 0) this.openPerClient.delete(client);
      else this.openPerClient.set(client, left);
    });
  }

  /**
   * A catch-up slot: at once when one is free, else the first to free within
   * `maxCatchUpWaitMs` (first come, first served), else 503 `overloaded`.
   */
  async admitCatchUp(): Promise<Release> {
    if (this.catchUps < this.bounds.maxCatchUps) return this.takeCatchUp();
    const handedOver = await new Promise<boolean>((resolve) => {
      const waiter = (taken: boolean) => {
        clearTimeout(timer);
        resolve(taken);
      };
      const timer = setTimeout(() => {
        this.catchUpWaiters.splice(this.catchUpWaiters.indexOf(waiter), 1);
        waiter(false);
      }, this.bounds.maxCatchUpWaitMs);
      this.catchUpWaiters.push(waiter);
    });
    if (!handedOver) {
      throw this.refuse('stream_catch_ups', 'overloaded', `${this.catchUps} streams are reading history, STREAM_MAX_CATCH_UPS`);
    }
    return this.releaseOfCatchUp();
  }

  private takeCatchUp(): Release {
    this.catchUps += 1;
    return this.releaseOfCatchUp();
  }

  /** Frees the slot, or hands it straight to the longest waiting catch-up. */
  private releaseOfCatchUp(): Release {
    return once(() => {
      const next = this.catchUpWaiters.shift();
      if (next) next(true);
      else this.catchUps -= 1;
    });
  }

  private refuse(limit: RequestLimit, code: 'rate-limited' | 'overloaded', why: string): Problem {
    this.onRefused(limit);
    return new Problem(
      code,
      `the stream was not opened (${why}); retry after Retry-After`,
      { retryable: true },
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    );
  }
}

function once(release: () => void): Release {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
  };
}
