/**
 * `node --require dist/scripts/bench/gc-log.js`: appends every garbage collection of this process to the file
 * GC_LOG_FILE as a JSON line { at (ms since the epoch, when it started), ms (its pause), kind }. The bench's tail
 * mode loads it into the api and the projector, so that a stall in the latency picture can be held against the
 * pauses of both processes (perf_hooks' GC entries: what --trace-gc prints, with a clock the other logs share).
 */
import { appendFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const file = process.env.GC_LOG_FILE;
const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

if (file) {
  const observer = new PerformanceObserver((list) => {
    const lines = list.getEntries().map((entry: PerformanceEntry) => {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? -1;
      return JSON.stringify({
        at: Math.round(performance.timeOrigin + entry.startTime),
        ms: Math.round(entry.duration * 100) / 100,
        kind: KINDS[kind] ?? String(kind),
      });
    });
    appendFileSync(file, lines.join('\n') + '\n');
  });
  observer.observe({ entryTypes: ['gc'] });
}
