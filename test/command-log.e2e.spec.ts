import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { commandsTopicSpec, KafkaCommandLog, type RecordAppender, type Subscription } from '@timeline/command-log';
import { expectEventually } from './support/eventually';

const SESSION_TIMEOUT_MS = 6_000;

/**
 * The command log's consumer against a real broker: fetching runs apart from handling, partition by
 * partition (PartitionWorkers), so a partition whose batch takes long holds neither the others nor the
 * member's place in its group.
 */
describe('the command log consumer, one partition held', () => {
  const topic = `command-log-${randomUUID().slice(0, 8)}`;
  const log = new KafkaCommandLog({ brokers: [process.env.TEST_KAFKA_BROKERS!], clientId: 'command-log-e2e' });
  let appender: RecordAppender;
  let subscription: Subscription;
  const handled = new Map<number, number[]>([
    [0, []],
    [1, []],
    [2, []],
  ]);
  let assignments = 0;
  let releaseHeld: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (releaseHeld = resolve));
  let activeWhenReleased: boolean | null = null;

  const append = (partition: number, count: number) =>
    Promise.all(Array.from({ length: count }, (_, index) => appender.append({ key: `k${index}`, partition, value: `v${index}`, headers: {} })));

  beforeAll(async () => {
    await log.ensureTopics([commandsTopicSpec(topic, 3, 1)]);
    appender = await log.appender(topic, { lingerMs: 0, maxBatch: 100 });
    subscription = await log.subscribe({
      topic,
      groupId: `${topic}-group`,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
      startOffsets: (partitions) => {
        assignments += 1;
        return Promise.resolve(new Map(partitions.map((partition) => [partition, 0])));
      },
      handler: async (batch, control) => {
        const first = handled.get(batch.partition)!.length === 0;
        handled.get(batch.partition)!.push(...batch.records.map((record) => record.offset));
        // Partition 0's first batch is held without a heartbeat of its own, longer than the session timeout.
        if (batch.partition === 0 && first) {
          await held;
          activeWhenReleased = control.isActive();
        }
      },
    });
    await expectEventually(() => expect(assignments).toBe(1), { timeoutMs: 30_000 });
  }, 60_000);
  afterAll(async () => {
    releaseHeld();
    await subscription?.stop();
    await log.close();
  });

  test('records of the other partitions are handled while one is held, and the member keeps its partitions past its session timeout', async () => {
    await append(0, 1);
    await expectEventually(() => expect(handled.get(0)).toEqual([0]), { timeoutMs: 30_000 });

    await append(1, 3);
    await append(2, 2);
    await append(0, 2);
    await expectEventually(() => {
      expect(handled.get(1)).toEqual([0, 1, 2]);
      expect(handled.get(2)).toEqual([0, 1]);
    });
    // Past the session timeout with partition 0 still held: the consumer's own fetches go on and heartbeat.
    await new Promise((resolve) => setTimeout(resolve, SESSION_TIMEOUT_MS + 2_000));
    await append(1, 1);
    await expectEventually(() => expect(handled.get(1)).toEqual([0, 1, 2, 3]));
    expect(assignments).toBe(1);
    expect(handled.get(0)).toEqual([0]);

    // Released: the held batch was still its partition's, and what was fetched behind it follows in order.
    releaseHeld();
    await expectEventually(() => expect(handled.get(0)).toEqual([0, 1, 2]));
    expect(activeWhenReleased).toBe(true);
    expect(assignments).toBe(1);
  }, 60_000);
});
