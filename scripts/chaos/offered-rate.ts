/**
 * Calls `send` `ratePerSecond` times a second, from now until the returned timer is cleared. Ticks that a busy event
 * loop delayed are caught up on, so that the offered rate holds (an open model: sending does not wait for answers).
 */
export function offerAtRate(ratePerSecond: number, send: () => void): NodeJS.Timeout {
  const intervalMs = 1_000 / ratePerSecond;
  const startedAt = Date.now();
  let sent = 0;
  return setInterval(
    () => {
      const due = Math.floor((Date.now() - startedAt) / intervalMs) + 1;
      for (; sent < due; sent++) send();
    },
    Math.max(5, Math.floor(intervalMs)),
  );
}
