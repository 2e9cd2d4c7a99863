import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import { lagSeconds, ServiceMetrics, type PartitionLag, type ProjectionLag } from '@timeline/observability';
import { ProjectorMetrics } from './projector-metrics';
import { ProjectionLagReadiness } from './projection-lag.readiness';
import { ProjectorTelemetry } from './projector-telemetry';

const partition = (number: number, records: number): PartitionLag => ({
  partition: number,
  endOffset: 100,
  storedOffset: 100 - records,
  records,
  seconds: records ? 1 : 0,
});

function readinessWith(
  bound: number,
  partitions: () => Promise<PartitionLag[]>,
  telemetry = new ProjectorTelemetry(new ProjectorMetrics(new ServiceMetrics())),
) {
  const config = TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', PROJECTOR_READY_MAX_LAG_RECORDS: String(bound) });
  return new ProjectionLagReadiness(config, { partitions } as unknown as ProjectionLag, telemetry);
}

describe('projection lag readiness', () => {
  test('ready while every partition is within the bound', async () => {
    const result = await readinessWith(10, async () => [partition(0, 10), partition(1, 0)]).check();
    expect(result).toEqual({ ready: true, detail: { lagRecords: 10, maxLagRecords: 10 } });
  });

  test('not ready when a partition is further behind, naming it', async () => {
    const result = await readinessWith(10, async () => [partition(0, 3), partition(1, 11)]).check();
    expect(result).toEqual({ ready: false, detail: { lagRecords: 11, maxLagRecords: 10, partitionsBehind: [1] } });
  });

  test('not ready while a partition fails, naming it, its failure class and error; ready once it moves again', async () => {
    const telemetry = new ProjectorTelemetry(new ProjectorMetrics(new ServiceMetrics()));
    const readiness = readinessWith(10, async () => [partition(0, 0), partition(1, 2)], telemetry);
    telemetry.batchFailed(1, 'connection', 'Connection terminated unexpectedly', Date.parse('2026-12-01T10:00:00Z'));
    telemetry.batchFailed(1, 'connection', 'connect ECONNREFUSED 127.0.0.1:5432', Date.parse('2026-12-01T10:00:05Z'));
    expect(await readiness.check()).toEqual({
      ready: false,
      detail: {
        lagRecords: 2,
        maxLagRecords: 10,
        failingPartitions: [
          { partition: 1, failureClass: 'connection', error: 'connect ECONNREFUSED 127.0.0.1:5432', since: '2026-12-01T10:00:00.000Z', attempts: 2 },
        ],
      },
    });
    telemetry.partitionRecovered(1);
    expect((await readiness.check()).ready).toBe(true);
  });

  test('not ready when the lag cannot be read', async () => {
    const result = await readinessWith(10, async () => Promise.reject(new Error('no broker answers'))).check();
    expect(result.ready).toBe(false);
    expect(result.detail.message).toMatch(/no broker answers/);
  });
});

describe('lagSeconds', () => {
  test('0 when nothing waits, however old the last decision', () => {
    expect(lagSeconds(0, 0, 1_000_000)).toBe(0);
  });
  test('now − last decided record while records wait', () => {
    expect(lagSeconds(5, 1_000, 4_500)).toBe(3.5);
  });
  test('unknown (NaN) when records wait and none was ever decided', () => {
    expect(lagSeconds(5, null, 4_500)).toBeNaN();
  });
});
