/**
 * Preloaded into a service by a measuring tool (`NODE_OPTIONS=--require …/gc-log.js`; `--trace-gc` is not allowed
 * in NODE_OPTIONS): writes a line to stdout for every garbage collection, with its wall-clock start and its
 * duration, so that the tool can set the pauses beside the requests of the same moment.
 */
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks',
};

new PerformanceObserver((list) => {
  for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
    const kind = KINDS[entry.detail?.kind ?? -1] ?? 'other';
    process.stdout.write(`${JSON.stringify({ gc: kind, startMs: performance.timeOrigin + entry.startTime, durationMs: entry.duration })}\n`);
  }
}).observe({ entryTypes: ['gc'] });
