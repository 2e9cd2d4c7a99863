import { Injectable } from '@nestjs/common';
import { CommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { OperationsRepository } from '@timeline/database';

/** One partition of timeline.commands: how far its projection is behind. */
export interface PartitionLag {
  partition: number;
  /** The offset after the partition's last record in Kafka. */
  endOffset: number;
  /** The next offset to decide, stored beside the read models. */
  storedOffset: number;
  /** endOffset − storedOffset. */
  records: number;
  /** now − Kafka timestamp of the last decided record; 0 when nothing waits. */
  seconds: number;
}

/**
 * How far the projection is behind timeline.commands, per partition: the
 * topic's end offsets against the offsets stored beside the read models. Read
 * from Kafka and PostgreSQL, not from this process's memory, so it is right
 * whichever projector instance owns a partition. Metrics, readiness and the
 * ops status read it.
 */
@Injectable()
export class ProjectionLag {
  constructor(
    private readonly config: TimelineConfig,
    private readonly log: CommandLog,
    private readonly operations: OperationsRepository,
  ) {}

  async partitions(now = Date.now()): Promise<PartitionLag[]> {
    const topic = this.config.kafka.commandsTopic;
    const [ends, positions] = await Promise.all([this.log.endOffsets(topic), this.operations.partitionPositions(topic)]);
    return [...ends.entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, endOffset]) => {
        const position = positions.get(partition);
        const storedOffset = position?.nextOffset ?? 0;
        const records = Math.max(0, endOffset - storedOffset);
        return { partition, endOffset, storedOffset, records, seconds: lagSeconds(records, position?.lastDecidedAt ?? null, now) };
      });
  }
}

/**
 * now − time of the last decided record while records wait, else 0. A
 * partition with records waiting and none decided yet has no such time: NaN,
 * rather than a made-up number.
 */
export function lagSeconds(records: number, lastDecidedAt: number | null, now: number): number {
  if (records === 0) return 0;
  if (lastDecidedAt === null) return Number.NaN;
  return Math.max(0, (now - lastDecidedAt) / 1_000);
}
