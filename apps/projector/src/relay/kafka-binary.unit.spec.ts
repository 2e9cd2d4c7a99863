import { describe, expect, test } from '@jest/globals';
import type { OutboxRow } from '@timeline/database';
import { changeEventId } from '@timeline/change-events';
import { chunkByBytes, toEventRecord } from './kafka-binary';

const commandId = '00000000-0000-4000-8000-000000000001';
const eventId = '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';
const row: OutboxRow = {
  position: 3,
  timelineId: 'japan-nato',
  changeType: 'EventRetracted',
  commandId,
  changeIndex: 0,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  change: {
    type: 'EventRetracted',
    commandId,
    timelineId: 'japan-nato',
    version: 4,
    knownAt: '2023-07-14T00:00:00.000Z',
    eventId,
    revision: 3,
    reason: 'Recorded twice',
    event: { eventId } as never,
  },
};

describe('outbox rows as Kafka records (CloudEvents binary mode)', () => {
  test('attributes go to ce_ headers, the timeline id is the key, the value is the data with a body even for a retraction', () => {
    const record = toEventRecord(row, 'https://timeline.example');
    expect(record.key).toBe('japan-nato');
    expect(record.headers).toEqual({
      'content-type': 'application/json',
      ce_specversion: '1.0',
      ce_id: changeEventId(commandId, 0),
      ce_source: 'https://timeline.example/v1/timelines/japan-nato',
      ce_type: 'timeline.event.retracted.v1',
      ce_subject: eventId,
      ce_time: '2023-07-14T00:00:00.000Z',
      ce_dataschema: 'https://timeline.example/schemas/timeline.event.retracted.v1.json',
      traceparent: row.traceparent,
    });
    expect(JSON.parse(record.value)).toMatchObject({ eventId, reason: 'Recorded twice', revision: 3, version: 4 });
  });

  test('produce calls stay under the byte bound, in order, and a record larger than it goes alone', () => {
    const record = (size: number) => ({ key: 'k', value: 'x'.repeat(size), headers: {} });
    const chunks = chunkByBytes([record(40), record(40), record(40), record(200), record(10)], 100);
    expect(chunks.map((chunk) => chunk.map((r) => r.value.length))).toEqual([[40, 40], [40], [200], [10]]);
  });
});
