import type { OutgoingRecord } from '@timeline/command-log';
import { changeCloudEvent, type ChangeCloudEvent } from '@timeline/change-events';
import type { OutboxRow } from '@timeline/database';

/** CloudEvents attributes carried as `ce_` headers in Kafka binary mode; `datacontenttype` is `content-type`. */
const ATTRIBUTE_HEADERS = ['specversion', 'id', 'source', 'type', 'subject', 'time', 'dataschema'] as const;

/**
 * An outbox row as a record of timeline.events: CloudEvents 1.0, Kafka
 * protocol binding, binary content mode. The key is the timeline id, so a
 * timeline's changes share a partition and keep their order.
 */
export function toEventRecord(row: OutboxRow, baseUrl: string): OutgoingRecord {
  const event: ChangeCloudEvent = changeCloudEvent(row, baseUrl);
  const headers: Record<string, string> = { 'content-type': event.datacontenttype };
  for (const attribute of ATTRIBUTE_HEADERS) headers[`ce_${attribute}`] = event[attribute];
  // W3C trace context travels in its own header, where Kafka tracing instrumentation looks for it.
  if (event.traceparent) headers.traceparent = event.traceparent;
  return { key: row.timelineId, value: JSON.stringify(event.data), headers };
}

/** Splits records into produce calls of at most `maxBytes` of values each (at least one record per call). */
export function chunkByBytes(records: OutgoingRecord[], maxBytes: number): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = Buffer.byteLength(record.value) + Buffer.byteLength(record.key);
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
