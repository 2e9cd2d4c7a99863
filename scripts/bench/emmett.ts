/**
 * Baseline: Emmett's PostgreSQL event store (a devDependency used only here). `appendToStream` of one event
 * per call, closed loop, at the same concurrencies, streams, warm-up and duration as our HTTP appends, in a
 * database of its own. Emmett runs in this process with its default pool: no HTTP, no Kafka, no read models.
 * Two appends racing on one stream conflict (Emmett's concurrency error, code 412, even without an expected
 * version): the call is retried until it lands, as a caller would have to, and counts once, retries included.
 */
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { measureClosedLoop, type ClosedLoopResult } from './closed-loop';
import { CpuMeter, type CpuUse } from './cpu';
import { EVENT_BODY } from './replay';

export interface EmmettSpec {
  databaseUrl: string;
  concurrencies: number[];
  streams: number;
  warmupS: number;
  durationS: number;
  /** Measures each row's CPU: PostgreSQL's backends of Emmett's database, and this process (Emmett's client). */
  meter?: CpuMeter;
}

export interface EmmettRow extends ClosedLoopResult {
  /** Appends that lost a race on their stream and were tried again. */
  conflictRetries: number;
  cpu?: CpuUse;
}

const CONCURRENCY_ERROR = 412;

export async function measureEmmettAppends(spec: EmmettSpec, onRow: (callers: number) => void): Promise<EmmettRow[]> {
  const eventStore = getPostgreSQLEventStore(spec.databaseUrl);
  const streams = Array.from({ length: spec.streams }, (_, index) => `timeline-bench-${index + 1}`);
  try {
    // Creates Emmett's schema outside the measured window.
    await eventStore.appendToStream(streams[0], [{ type: 'EventRecorded', data: EVENT_BODY }]);
    const rows: EmmettRow[] = [];
    let conflictRetries = 0;
    const append = async (stream: string) => {
      for (;;) {
        try {
          return await eventStore.appendToStream(stream, [{ type: 'EventRecorded', data: EVENT_BODY }]);
        } catch (error) {
          if ((error as { errorCode?: number }).errorCode !== CONCURRENCY_ERROR) throw error;
          conflictRetries++;
        }
      }
    };
    for (const callers of spec.concurrencies) {
      onRow(callers);
      let before: Awaited<ReturnType<CpuMeter['snapshot']>> | null = null;
      const row = await measureClosedLoop({
        callers,
        warmupS: spec.warmupS,
        durationS: spec.durationS,
        // Round robin over the streams, as our load visits the timelines.
        operation: async (caller, sequence) => {
          await append(streams[(caller + sequence) % streams.length]);
        },
        onMeasuredStart: async () => {
          conflictRetries = 0;
          before = (await spec.meter?.snapshot()) ?? null;
        },
      });
      const cpu = before && spec.meter ? CpuMeter.between(before, await spec.meter.snapshot()) : undefined;
      rows.push({ ...row, conflictRetries, ...(cpu ? { cpu } : {}) });
    }
    return rows;
  } finally {
    await eventStore.close();
  }
}
