const ignore = () => undefined;

/**
 * Shares calls of `call` among concurrent callers, each served by a call that started after it asked: callers
 * of one turn of the event loop share the call that starts at the next turn; a caller that finds a call in
 * flight (it may have started before the caller asked) joins the one after it, which every caller arriving
 * meanwhile shares. So at most one call runs at a time, at most one more waits, and no answer predates the
 * question: what a write's consistency token needs (a position read before the decision was in hand could be
 * older than the decision).
 */
export function freshSharedCall<T>(call: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  let next: Promise<T> | null = null;
  return () => {
    if (next) return next;
    const after: Promise<unknown> = running ?? Promise.resolve();
    next = after
      .then(ignore, ignore)
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => {
        next = null;
        const started = call();
        running = started;
        const done = () => {
          if (running === started) running = null;
        };
        started.then(done, done);
        return started;
      });
    return next;
  };
}
