/**
 * The goals as figures of one run: each one ours against a baseline measured in the same run (or
 * against a fixed bound where the goal is a latency), with its goal and whether this run met it.
 */
import { round, table } from './stats';

export interface Ratio {
  name: string;
  /** The figure compared with the goal; null when a section it needs did not run or had nothing to show. */
  value: number | null;
  /** How the value was computed, with the figures it came from. */
  from: string;
  goal: string | null;
  met: boolean | null;
}

/** A ratio ours / baseline, e.g. appends/s over Emmett's; `atLeast` is its goal, if any. */
export function ratioOf(name: string, ours: number | null | undefined, baseline: number | null | undefined, from: string, atLeast: number | null): Ratio {
  const value = ours != null && baseline ? round(ours / baseline, 2) : null;
  return {
    name,
    value,
    from,
    goal: atLeast === null ? null : `>= ${atLeast.toFixed(1)}`,
    met: atLeast === null || value === null ? null : value >= atLeast,
  };
}

/** A latency against its bound in milliseconds. */
export function boundOf(name: string, milliseconds: number | null | undefined, atMostMs: number, from: string): Ratio {
  const value = milliseconds == null || Number.isNaN(milliseconds) ? null : round(milliseconds, 1);
  return { name, value, from, goal: `<= ${atMostMs} ms`, met: value === null ? null : value <= atMostMs };
}

export function ratiosTable(ratios: Ratio[]): string {
  const verdict = (ratio: Ratio) => (ratio.goal === null ? '(no goal)' : ratio.met === null ? 'n/a' : ratio.met ? 'met' : 'NOT MET');
  return table(
    ['', 'value', 'goal', '', 'from'],
    ratios.map((ratio) => [ratio.name, ratio.value === null ? 'n/a' : String(ratio.value), ratio.goal ?? '-', verdict(ratio), ratio.from]),
  );
}
