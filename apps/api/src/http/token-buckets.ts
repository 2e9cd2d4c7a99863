interface Bucket {
  tokens: number;
  updatedAtMs: number;
}

/**
 * One token bucket per client: `perSecond` tokens flow in, up to `burst`; a
 * request takes one. At most `maxClients` buckets are kept, in two
 * generations: when the current one holds half of them it becomes the
 * previous one and the old previous one is dropped; a client seen again is
 * moved to the current one. So the clients dropped are among those unseen
 * longest, each request costs O(1) whatever the number of clients (deleting
 * the oldest entry of one large Map one by one gets slower as deleted entries
 * pile up at its front), and a dropped client starts with a full bucket, as
 * one idle long enough would have anyway.
 */
export class TokenBuckets {
  private current = new Map<string, Bucket>();
  private previous = new Map<string, Bucket>();
  private readonly generationSize: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    maxClients: number,
  ) {
    this.generationSize = Math.max(1, Math.floor(maxClients / 2));
  }

  get clientCount(): number {
    return this.current.size + this.previous.size;
  }

  /** Takes a token for `client` at `nowMs`: 0 when one was there, else the seconds (rounded up) until one will be. */
  take(client: string, nowMs: number): number {
    const bucket = this.bucketOf(client, nowMs);
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedAtMs) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsedSeconds * this.perSecond);
    bucket.updatedAtMs = nowMs;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }

  private bucketOf(client: string, nowMs: number): Bucket {
    const seen = this.current.get(client);
    if (seen) return seen;
    const bucket = this.previous.get(client) ?? { tokens: this.burst, updatedAtMs: nowMs };
    this.previous.delete(client);
    if (this.current.size >= this.generationSize) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(client, bucket);
    return bucket;
  }
}
