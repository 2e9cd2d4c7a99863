import { describe, expect, test } from '@jest/globals';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import type { OutgoingRecord } from './command-log';
import { byPartition, unacknowledgedPartitions } from './kafka-command-log';

const record = (key: string, value: string): OutgoingRecord => ({ key, value, headers: {} });

describe('byPartition: records by the partition they go to', () => {
  const records = Array.from({ length: 200 }, (_, index) => record(`timeline-${index % 37}`, `command ${index}`));

  test('puts each record where the producer default partitioner would, once, keeping the order within a partition', () => {
    const grouped = byPartition(records, 6);
    const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1 })) as PartitionMetadata[];
    const producerChoice = Partitioners.DefaultPartitioner();
    for (const [partition, list] of grouped) {
      expect(partition).toBeGreaterThanOrEqual(0);
      expect(partition).toBeLessThan(6);
      for (const each of list) expect(producerChoice({ topic: 'timeline.commands', partitionMetadata, message: each })).toBe(partition);
    }
    const regrouped = [...grouped.values()].flat();
    expect(regrouped).toHaveLength(records.length);
    for (const list of grouped.values()) {
      expect(list).toEqual(records.filter((each) => list.includes(each)));
    }
  });

  test('a timeline keeps one partition, whichever records share the batch', () => {
    const alone = byPartition([record('timeline-7', 'x')], 6);
    const crowded = byPartition(records, 6);
    const [partition] = [...alone.keys()];
    expect(crowded.get(partition)?.some((each) => each.key === 'timeline-7')).toBe(true);
    expect(alone.size).toBe(1);
  });
});

describe('unacknowledgedPartitions: a send that resolved without some of its partitions (tulios/kafkajs#1798)', () => {
  const answer = (partition: number, errorCode = 0, topicName = 'timeline.commands') => ({ topicName, partition, errorCode });

  test('a send answered for every partition it carried leaves none', () => {
    expect(unacknowledgedPartitions([0, 1, 2], 'timeline.commands', [answer(2), answer(0), answer(1)])).toEqual([]);
  });

  test('a partition missing from the answer, answered with an error, or answered for another topic is named', () => {
    expect(unacknowledgedPartitions([0, 1, 2, 3], 'timeline.commands', [answer(0), answer(1, 6), answer(3, 0, 'other')])).toEqual([1, 2, 3]);
  });
});
