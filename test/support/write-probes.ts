import { expect } from '@jest/globals';
import { reportedStatement } from '@timeline/dev-stack';
import type { TestTimelineService } from './timeline-service';

/**
 * Records an event on a timeline of every partition of timeline.commands and
 * expects each to be answered 201: the write path moves everywhere. Timelines
 * `probe-<n>` are tried in turn until every partition has had one.
 */
export async function expectWritesOnEveryPartition(service: TestTimelineService): Promise<void> {
  const partitions = service.config.kafka.partitions;
  const written = new Set<number>();
  for (let n = 0; written.size < partitions; n++) {
    if (n >= 50 * partitions) throw new Error(`no probe timeline fell on partitions other than ${[...written].join(', ')}`);
    const timelineId = `probe-${n}`;
    const created = await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Probe', defaultLanguage: 'en' });
    expect([200, 201]).toContain(created.status);
    const recorded = await service.http.post<{ commandId: string }>(`/v1/timelines/${timelineId}/events`, reportedStatement(n));
    expect({ timelineId, status: recorded.status }).toEqual({ timelineId, status: 201 });
    const { rows } = await service.pool.query<{ partition: number }>('select topic_partition as partition from decisions where command_id = $1', [
      recorded.body.commandId,
    ]);
    written.add(rows[0].partition);
  }
}
