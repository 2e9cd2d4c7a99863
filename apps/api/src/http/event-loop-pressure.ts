import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { TimelineConfig } from '@timeline/config';
import type { RequestLimit } from '../observability/api-metrics';

/** Why a request was shed: the label of `timeline_api_requests_limited_total{limit}`. */
export type ShedReason = Extract<RequestLimit, 'event_loop_delay' | 'event_loop_utilization'>;

export interface Pressure {
  reason: ShedReason;
  value: number;
}

/** The event loop over one sample (`SHED_SAMPLE_INTERVAL_MS`). */
export interface EventLoopSample {
  /** How late the loop ran, ms: the mean delay of its timer ticks. */
  eventLoopDelay: number;
  /** Fraction of the time the event loop was busy. */
  eventLoopUtilized: number;
}

/** What the sampler read at the end of one sample. */
export interface EventLoopReading {
  /** Timer ticks the delay histogram recorded, and their mean delay (the timer's period taken off), ms. */
  ticks: number;
  meanDelayMs: number;
  /** Time since the previous reading, ms. */
  elapsedMs: number;
  utilization: number;
}

/**
 * A reading as a sample, or null when it measured nothing. Node's histogram records a tick only after a
 * tick since its reset, so when a turn of the loop outlasts the sample it records none: the sample then
 * spanned one turn, and a request arriving in it waited up to `elapsedMs`. After one long stall the
 * sample's timer fires again at once to catch up: no time passed, nothing was measured.
 */
export function sampleOf(reading: EventLoopReading, intervalMs: number): EventLoopSample | null {
  if (reading.ticks > 0) return { eventLoopDelay: reading.meanDelayMs, eventLoopUtilized: reading.utilization };
  if (reading.elapsedMs >= intervalMs) return { eventLoopDelay: reading.elapsedMs, eventLoopUtilized: reading.utilization };
  return null;
}

/** Late samples in a row before requests are refused, when none were lately. */
export const LATE_SAMPLES_TO_SHED = 2;
/** Samples on time after refusing during which one late sample refuses again: the overload goes on. */
export const SAMPLES_AN_OVERLOAD_LASTS = 8;

/** Whether one sample is past a bound (a bound of 0 is off), and which. */
export function pressureIn(sample: EventLoopSample, config: TimelineConfig['shedding']): Pressure | null {
  if (config.maxEventLoopDelayMs > 0 && sample.eventLoopDelay > config.maxEventLoopDelayMs) return { reason: 'event_loop_delay', value: sample.eventLoopDelay };
  if (config.maxEventLoopUtilization > 0 && sample.eventLoopUtilized > config.maxEventLoopUtilization) {
    return { reason: 'event_loop_utilization', value: sample.eventLoopUtilized };
  }
  return null;
}

/**
 * The shedding rule. One stall (a garbage collection, the process not scheduled for half a second) makes
 * one sample late; the requests that queued behind it are served at the spare capacity, so refusing them
 * would only make their callers retry. A loop past capacity is late sample after sample: requests are
 * refused from the second late sample in a row until a sample is on time again. Refusing brings the loop
 * back on time at once while the load goes on, so for `SAMPLES_AN_OVERLOAD_LASTS` samples after that,
 * one late sample is enough to refuse again.
 */
export class EventLoopPressure {
  private lateInARow = 0;
  private overloadLasts = 0;
  private refusing: Pressure | null = null;

  constructor(private readonly config: TimelineConfig['shedding']) {}

  record(sample: EventLoopSample): void {
    const late = pressureIn(sample, this.config);
    this.lateInARow = late ? this.lateInARow + 1 : 0;
    this.refusing = late && (this.lateInARow >= LATE_SAMPLES_TO_SHED || this.overloadLasts > 0) ? late : null;
    if (this.refusing) this.overloadLasts = SAMPLES_AN_OVERLOAD_LASTS;
    else if (!late) this.overloadLasts = Math.max(0, this.overloadLasts - 1);
  }

  /** What requests are refused for now, or null. */
  current(): Pressure | null {
    return this.refusing;
  }
}

// monitorEventLoopDelay's timer period; each tick's delay includes it.
const RESOLUTION_MS = 10;

/** Samples this process's event loop every `intervalMs` (delay histogram and utilisation, both reset per sample). */
export function sampleEventLoop(intervalMs: number, onSample: (sample: EventLoopSample) => void): { stop: () => void } {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  let utilization = performance.eventLoopUtilization();
  let readAt = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const nowUtilization = performance.eventLoopUtilization();
    const sample = sampleOf(
      {
        ticks: histogram.count,
        meanDelayMs: histogram.count > 0 ? Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS) : 0,
        elapsedMs: now - readAt,
        utilization: performance.eventLoopUtilization(nowUtilization, utilization).utilization,
      },
      intervalMs,
    );
    if (sample) onSample(sample);
    [readAt, utilization] = [now, nowUtilization];
    histogram.reset();
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
