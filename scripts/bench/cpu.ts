/**
 * Where the CPU went during a measured window: each of our processes (read from /proc/<pid>/stat),
 * PostgreSQL backends serving the bench database, and the rest of the machine ("other": anything
 * this bench did not start, e.g. other people's work on a shared machine, which skews the figures).
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import type { Pool } from 'pg';
import { round } from './stats';

interface Snapshot {
  at: number;
  machineBusy: number;
  machineTotal: number;
  /** utime + stime per pid, in clock ticks, by group name. */
  groups: Map<string, Map<number, number>>;
}

export type CpuUse = Record<string, number>;

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + value, 0);
  const idle = values[3] + (values[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

function processTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return null;
  }
}

/**
 * `groups` names the pids to account for; `postgres` adds the backends connected to `database`
 * at snapshot time (the api's and projector's pools live through a window).
 */
export class CpuMeter {
  constructor(
    private readonly groups: () => Record<string, number[]>,
    private readonly pool: Pool,
    private readonly database: string,
  ) {}

  async snapshot(): Promise<Snapshot> {
    const { rows } = await this.pool.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [this.database]);
    const named = { ...this.groups(), postgres: rows.map((row) => row.pid) };
    const groups = new Map<string, Map<number, number>>();
    for (const [name, pids] of Object.entries(named)) {
      const ticks = new Map<number, number>();
      for (const pid of pids) {
        const value = processTicks(pid);
        if (value !== null) ticks.set(pid, value);
      }
      groups.set(name, ticks);
    }
    const machine = machineTicks();
    return { at: Date.now(), machineBusy: machine.busy, machineTotal: machine.total, groups };
  }

  /** CPU used between two snapshots, in cores (2.00 = both cores of a 2-core machine busy all the time). */
  static between(before: Snapshot, after: Snapshot): CpuUse {
    const cores = os.cpus().length;
    const totalTicks = after.machineTotal - before.machineTotal;
    if (totalTicks <= 0) return {};
    const asCores = (ticks: number) => round((ticks / totalTicks) * cores, 2);
    const use: CpuUse = {};
    let ours = 0;
    for (const [name, afterTicks] of after.groups) {
      const beforeTicks = before.groups.get(name) ?? new Map<number, number>();
      let ticks = 0;
      // A pid seen only at the end started inside the window: count its ticks from zero.
      for (const [pid, value] of afterTicks) ticks += value - (beforeTicks.get(pid) ?? 0);
      ours += ticks;
      use[name] = asCores(ticks);
    }
    const busy = after.machineBusy - before.machineBusy;
    use.other = asCores(Math.max(0, busy - ours));
    use.machine = asCores(busy);
    return use;
  }
}

export function formatCpu(use: CpuUse | undefined, names: string[]): string {
  if (!use) return '';
  return names.map((name) => `${name} ${(use[name] ?? 0).toFixed(2)}`).join(', ');
}
