/**
 * One token bucket per client: `perSecond` tokens flow in, up to `burst`; a
 * request takes one. At most `maxClients` buckets are kept: the client unseen
 * longest is forgotten first, and a forgotten client starts with a full
 * bucket, as one that has been idle long enough would have anyway.
 */
export class TokenBuckets {
  /** Map order is recency order: a bucket is moved to the end each time it is used. */
  private readonly buckets = new Map<string, { tokens: number; updatedAtMs: number }>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxClients: number,
  ) {}

  get clientCount(): number {
    return this.buckets.size;
  }

  /** Takes a token for `client` at `nowMs`: 0 when one was there, else the seconds (rounded up) until one will be. */
  take(client: string, nowMs: number): number {
    const bucket = this.buckets.get(client) ?? { tokens: this.burst, updatedAtMs: nowMs };
    this.buckets.delete(client);
    const elapsedSeconds = Math.max(0, nowMs - bucket.updatedAtMs) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsedSeconds * this.perSecond);
    bucket.updatedAtMs = nowMs;
    this.buckets.set(client, bucket);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perSecond));
  }
}
