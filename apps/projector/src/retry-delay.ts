const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 5_000];

/** The pause before the next try after `failures` failures in a row: backs off up to 5 s. */
export function retryDelayMs(failures: number): number {
  return RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)];
}
