import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import type { DecisionCount, FailingPartitionStatus, OperationsRepository, OpsStatusRepository, ReadModels, ReadRouter } from '@timeline/database';
import type { PartitionLag } from '@timeline/observability';
import type { ProjectionLag } from '@timeline/observability';
import { OpsStatusService } from './ops-status';

const config = TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', KAFKA_COMMANDS_TOPIC: 'timeline.commands' });

function serviceWith({
  lag = async (): Promise<PartitionLag[]> => [],
  counts = [] as DecisionCount[],
  inLastMinute = 0,
  failing = [] as FailingPartitionStatus[],
} = {}) {
  const reads = { lag: 0 };
  const opsStatus = {
    decisionsInLast: async () => inLastMinute,
    decisionCounts: async () => counts,
    recentRejections: async () => [],
    rebuildPositions: async () => [],
    failingPartitions: async () => failing,
  } as unknown as OpsStatusRepository;
  const models = { opsStatus, timelines: { listTimelines: async () => [] } } as unknown as ReadModels;
  const service = new OpsStatusService(
    config,
    { partitions: () => (reads.lag++, lag()) } as unknown as ProjectionLag,
    { relayBacklog: async () => ({ records: 3, oldestSeconds: 1.234 }) } as unknown as OperationsRepository,
    opsStatus,
    {
      read: (_atLeast: unknown, work: (models: ReadModels) => Promise<unknown>) => work(models),
      replicaStatuses: () => [
        { name: 'replica-0', inRotation: false, lagBytes: null, lagSeconds: null, replayPosition: null, lastError: 'connect ECONNREFUSED' },
      ],
    } as unknown as ReadRouter,
  );
  return { service, reads };
}

describe('the ops status', () => {
  test('counts decisions by outcome, rejections by reason, and throughput over the last minute', async () => {
    const { service } = serviceWith({
      inLastMinute: 90,
      counts: [
        { outcome: 'accepted', reason: null, count: 40 },
        { outcome: 'rejected', reason: 'version_conflict', count: 5 },
        { outcome: 'rejected', reason: 'malformed', count: 2 },
      ],
    });
    const status = await service.status();
    expect(status.throughput).toEqual({ windowSeconds: 60, decisions: 90, perSecond: 1.5 });
    expect(status.decisions).toEqual({
      windowSeconds: 3_600,
      accepted: 40,
      rejected: 7,
      rejectedByReason: [
        { reason: 'version_conflict', count: 5 },
        { reason: 'malformed', count: 2 },
      ],
    });
    expect(status.relay).toEqual({ unsentRecords: 3, oldestUnsentSeconds: 1.2 });
  });

  test('a partition waiting with nothing decided yet has no seconds behind: null, not NaN', async () => {
    const { service } = serviceWith({
      lag: async () => [{ partition: 0, endOffset: 4, storedOffset: 0, records: 4, seconds: Number.NaN }],
    });
    const status = await service.status();
    expect(status.projection.partitions).toEqual([{ partition: 0, endOffset: 4, storedOffset: 0, records: 4, seconds: null }]);
  });

  test('when the lag cannot be read, the rest of the status is still answered', async () => {
    const { service } = serviceWith({ lag: async () => Promise.reject(new Error('There is no leader for this topic-partition')), inLastMinute: 6 });
    const status = await service.status();
    expect(status.projection).toEqual({ topic: 'timeline.commands', partitions: null, error: 'lag unknown: Kafka or PostgreSQL did not answer', failing: [] });
    expect(status.throughput.decisions).toBe(6);
  });

  test('failing partitions are shown with their error, also when the lag cannot be read', async () => {
    const failing: FailingPartitionStatus[] = [
      {
        partition: 1,
        failureClass: 'connection',
        error: 'Connection terminated unexpectedly',
        since: '2026-12-01T10:00:00.000Z',
        lastFailedAt: '2026-12-01T10:00:05.000Z',
        attempts: 3,
      },
    ];
    const { service } = serviceWith({ lag: async () => Promise.reject(new Error('no broker')), failing });
    expect((await service.status()).projection.failing).toEqual(failing);
  });

  test('lists the read replicas with their rotation, lag and last error', async () => {
    const { service } = serviceWith();
    expect((await service.status()).readReplicas).toEqual([
      { name: 'replica-0', inRotation: false, lagBytes: null, lagSeconds: null, replayPosition: null, lastError: 'connect ECONNREFUSED' },
    ]);
  });

  test('a status asked with a consistency token is read fresh, not from the half-second cache', async () => {
    const { service, reads } = serviceWith();
    await service.status(1_000);
    await service.status(1_100, 0x10n);
    expect(reads.lag).toBe(2);
  });

  test('polls within half a second share one read', async () => {
    const { service, reads } = serviceWith();
    await Promise.all([service.status(1_000), service.status(1_200), service.status(1_500)]);
    expect(reads.lag).toBe(1);
    await service.status(1_501);
    expect(reads.lag).toBe(2);
  });
});
