/**
 * Baseline: Emmett's PostgreSQL event store (a devDependency used only here). `appendToStream` of one event
 * per call, closed loop, at the same concurrencies, streams, warm-up and duration as our HTTP appends, in a
 * database of its own. Emmett runs in this process with its default pool: no HTTP, no Kafka, no read models.
 */
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';
import { measureClosedLoop, type ClosedLoopResult } from './closed-loop';
import { EVENT_BODY } from './replay';

export interface EmmettSpec {
  databaseUrl: string;
  concurrencies: number[];
  streams: number;
  warmupS: number;
  durationS: number;
}

export async function measureEmmettAppends(spec: EmmettSpec, onRow: (callers: number) => void): Promise<ClosedLoopResult[]> {
  const eventStore = getPostgreSQLEventStore(spec.databaseUrl);
  const streams = Array.from({ length: spec.streams }, (_, index) => `timeline-bench-${index + 1}`);
  try {
    // Creates Emmett's schema outside the measured window.
    await eventStore.appendToStream(streams[0], [{ type: 'EventRecorded', data: EVENT_BODY }]);
    const rows: ClosedLoopResult[] = [];
    for (const callers of spec.concurrencies) {
      onRow(callers);
      rows.push(
        await measureClosedLoop({
          callers,
          warmupS: spec.warmupS,
          durationS: spec.durationS,
          // Round robin over the streams, as our load visits the timelines.
          operation: async (caller, sequence) => {
            await eventStore.appendToStream(streams[(caller + sequence) % streams.length], [{ type: 'EventRecorded', data: EVENT_BODY }]);
          },
        }),
      );
    }
    return rows;
  } finally {
    await eventStore.close();
  }
}
