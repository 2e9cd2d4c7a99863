/**
 * A closed loop outside HTTP: N callers, each starting its next operation when the previous one ends, for a
 * warm-up (discarded) and then a measured window. The baselines (Emmett, raw kafkajs) run through it so that
 * they see the same concurrencies, warm-up and duration as our HTTP appends.
 */
import { summarize, round, type LatencySummary } from './stats';

export interface ClosedLoopSpec {
  callers: number;
  warmupS: number;
  durationS: number;
  /** One operation; `caller` is 0..callers-1 and `sequence` counts that caller's operations. */
  operation: (caller: number, sequence: number) => Promise<void>;
  /** Called between the warm-up and the measured window, e.g. to reset counts of the caller's own. */
  onMeasuredStart?: () => void | Promise<void>;
}

export interface ClosedLoopResult {
  callers: number;
  durationS: number;
  operationsPerSecond: number;
  operations: number;
  failures: number;
  /** The first failure's message, to say why. */
  firstFailure: string | null;
  /** Of the successful operations, in milliseconds. */
  latencyMs: LatencySummary;
}

export async function measureClosedLoop(spec: ClosedLoopSpec): Promise<ClosedLoopResult> {
  const sequences = new Array<number>(spec.callers).fill(0);
  if (spec.warmupS > 0) await runFor(spec, spec.warmupS, sequences);
  await spec.onMeasuredStart?.();
  return runFor(spec, spec.durationS, sequences);
}

async function runFor(spec: ClosedLoopSpec, durationS: number, sequences: number[]): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const startedAt = performance.now();
  const endsAt = startedAt + durationS * 1000;
  const caller = async (index: number) => {
    while (performance.now() < endsAt) {
      const began = performance.now();
      try {
        await spec.operation(index, sequences[index]++);
        latencies.push(performance.now() - began);
      } catch (error) {
        failures++;
        firstFailure ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.callers }, (_, index) => caller(index)));
  const elapsedS = (performance.now() - startedAt) / 1000;
  return {
    callers: spec.callers,
    durationS: round(elapsedS, 2),
    operationsPerSecond: round(latencies.length / elapsedS, 1),
    operations: latencies.length,
    failures,
    firstFailure,
    latencyMs: summarize(latencies),
  };
}
