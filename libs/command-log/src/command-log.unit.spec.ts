import { describe, expect, test } from '@jest/globals';
import { COMMANDS_MAX_MESSAGE_BYTES, commandsTopicSpec, topicMismatches } from './command-log';

const fitting = {
  'retention.ms': '-1',
  'retention.bytes': '-1',
  'cleanup.policy': 'delete',
  'message.timestamp.type': 'LogAppendTime',
  'max.message.bytes': String(COMMANDS_MAX_MESSAGE_BYTES),
  'min.insync.replicas': '2',
};

describe('topicMismatches', () => {
  const spec = commandsTopicSpec('timeline.commands', 3, 3);

  test('none for a topic as specified, or with a larger message limit', () => {
    expect(topicMismatches(spec, { configs: fitting, replicas: 3 })).toEqual([]);
    expect(topicMismatches(spec, { configs: { ...fitting, 'max.message.bytes': '10485760' }, replicas: 3 })).toEqual([]);
  });

  test('settings that lose records, change known time or refuse records, and too few replicas', () => {
    const configs = {
      ...fitting,
      'retention.ms': '604800000',
      'cleanup.policy': 'compact',
      'message.timestamp.type': 'CreateTime',
      'max.message.bytes': '1048588',
      'min.insync.replicas': '1',
    };
    expect(topicMismatches(spec, { configs, replicas: 1 })).toEqual([
      'retention.ms is 604800000, must be -1',
      'cleanup.policy is compact, must be delete',
      `message.timestamp.type is CreateTime, must be LogAppendTime`,
      `max.message.bytes is 1048588, must be at least ${COMMANDS_MAX_MESSAGE_BYTES}`,
      'replication factor is 1, must be at least 3',
      'min.insync.replicas is 1, must be at least 2 with 3 replicas',
    ]);
  });
});
