/**
 * Shares calls of `call` among concurrent callers, each served by a call that started after it asked: a
 * caller that finds a call in flight waits for it to end and joins the next one, which every caller arriving
 * meanwhile shares. So at most one call runs at a time, at most one more is queued, and no answer predates
 * the question: what a write's consistency token needs (a position read before the decision was in hand
 * could be older than the decision).
 */
export function freshSharedCall<T>(call: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let next: Promise<T> | null = null;
  const start = (): Promise<T> => {
    const started = call().finally(() => {
      if (running === started) running = null;
    });
    running = started;
    return started;
  };
  return () => {
    if (next) return next;
    if (!running) return start();
    const queued = running.then(
      () => undefined,
      () => undefined,
    );
    next = queued.then(() => {
      next = null;
      return start();
    });
    return next;
  };
}
