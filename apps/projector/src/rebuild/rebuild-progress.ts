/** Progress of a replay from offset 0: how far, how fast, how long still. Pure. */
export interface ReplayProgress {
  applied: number;
  total: number;
  recordsPerSecond: number;
  etaSeconds: number | null;
}

export function sumOffsets(offsets: ReadonlyMap<number, number>): number {
  let sum = 0;
  for (const offset of offsets.values()) sum += offset;
  return sum;
}

/** `previous` is the sample before `current`; the rate is over the time between them. */
export function replayProgress(
  current: { at: number; applied: ReadonlyMap<number, number>; end: ReadonlyMap<number, number> },
  previous: { at: number; applied: number } | null,
): ReplayProgress {
  const applied = sumOffsets(current.applied);
  const total = sumOffsets(current.end);
  const seconds = previous ? (current.at - previous.at) / 1_000 : 0;
  const recordsPerSecond = previous && seconds > 0 ? Math.max(0, (applied - previous.applied) / seconds) : 0;
  const remaining = Math.max(0, total - applied);
  return {
    applied,
    total,
    recordsPerSecond: Math.round(recordsPerSecond),
    etaSeconds: remaining === 0 ? 0 : recordsPerSecond > 0 ? Math.ceil(remaining / recordsPerSecond) : null,
  };
}

/** Per partition, how many records `behind` still has to apply to reach `ahead`. */
export function offsetsBehind(behind: ReadonlyMap<number, number>, ahead: ReadonlyMap<number, number>): number {
  let records = 0;
  for (const [partition, offset] of ahead) records += Math.max(0, offset - (behind.get(partition) ?? 0));
  return records;
}

/** True when both have the same offset for every partition either knows (a missing partition is at 0). */
export function sameOffsets(a: ReadonlyMap<number, number>, b: ReadonlyMap<number, number>): boolean {
  const partitions = new Set([...a.keys(), ...b.keys()]);
  return [...partitions].every((partition) => (a.get(partition) ?? 0) === (b.get(partition) ?? 0));
}
