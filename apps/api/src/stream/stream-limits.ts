import type { RequestLimit } from '@timeline/observability';
import { Problem } from '@timeline/problems';

/** Seconds a refused stream client should wait: a slot frees only when another client leaves or catches up. */
const RETRY_AFTER_SECONDS = 5;

/** Gives back what `admit…` took; a second call does nothing. */
export type Release = () => void;

/**
 * Bounds on this process's SSE clients: open streams in all
 * (STREAM_MAX_CLIENTS) and per client (STREAM_MAX_CLIENTS_PER_ADDRESS), and
 * streams reading history at once (STREAM_MAX_CATCH_UPS). A refusal is a
 * problem thrown before the stream opens.
 */
export class StreamLimits {
  private open = 0;
  private readonly openPerClient = new Map<string, number>();
  private catchUps = 0;

  constructor(
    private readonly bounds: { maxClients: number; maxClientsPerAddress: number; maxCatchUps: number },
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

  /** A catch-up slot, or 503 `overloaded` when STREAM_MAX_CATCH_UPS streams read history already. */
  admitCatchUp(): Release {
    if (this.catchUps >= this.bounds.maxCatchUps) {
      throw this.refuse('stream_catch_ups', 'overloaded', `${this.catchUps} streams are reading history, STREAM_MAX_CATCH_UPS`);
    }
    this.catchUps += 1;
    return once(() => {
      this.catchUps -= 1;
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
