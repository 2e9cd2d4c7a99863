import { Injectable } from '@nestjs/common';
import type { LogRecord } from '@timeline/command-log';
import type { DecisionRow, PartitionFailure } from '@timeline/database';
import { recordBatchSpans } from '@timeline/observability';
import { ProjectorMetrics } from './projector-metrics';

export interface CommittedBatch {
  topic: string;
  partition: number;
  records: LogRecord[];
  decisions: DecisionRow[];
  /** When the transaction began (ms since the epoch) and how long it took until its commit. */
  startedAt: number;
  seconds: number;
}

/** A partition whose batches fail: since when, how often, and the last error. */
export type FailingPartition = PartitionFailure;

/** What the projector reports: metrics and trace spans of committed batches, and partitions that fail. */
@Injectable()
export class ProjectorTelemetry {
  private readonly failing = new Map<number, FailingPartition>();

  constructor(private readonly metrics: ProjectorMetrics) {}

  /** One failed transaction of `partition`; the partition counts as failing until `partitionRecovered`. */
  batchFailed(partition: number, failureClass: string, error: string, now = Date.now()): FailingPartition {
    this.metrics.batchFailed(partition, failureClass);
    const earlier = this.failing.get(partition);
    const failing = { partition, failureClass, error, since: earlier?.since ?? new Date(now).toISOString(), attempts: (earlier?.attempts ?? 0) + 1 };
    this.failing.set(partition, failing);
    return failing;
  }

  /** True when the partition was failing until now. */
  partitionRecovered(partition: number): boolean {
    return this.failing.delete(partition);
  }

  failingPartitions(): FailingPartition[] {
    return [...this.failing.values()].sort((a, b) => a.partition - b.partition);
  }

  /** A batch reached the handler: how long each of its records took from its Kafka append to here. */
  batchFetched(records: LogRecord[], receivedAt = Date.now()): void {
    for (const record of records) this.metrics.stage('fetch', (receivedAt - record.timestamp) / 1_000);
  }

  batchCommitted({ topic, partition, records, decisions, startedAt, seconds }: CommittedBatch): void {
    this.metrics.stage('transaction', seconds);
    const committedAt = startedAt + seconds * 1_000;
    this.metrics.batchApplied(
      records.length,
      seconds,
      decisions.map((decision) => ({
        commandType: decision.commandType,
        outcome: decision.outcome,
        reason: decision.reason,
        appendedAt: Date.parse(decision.knownAt),
      })),
      committedAt,
    );
    const byOffset = new Map(records.map((record) => [record.offset, record]));
    recordBatchSpans(
      `process ${topic}`,
      startedAt,
      {
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': String(partition),
        'messaging.batch.message_count': records.length,
      },
      decisions.map((decision) => ({
        name: `decide ${decision.commandType}`,
        headers: byOffset.get(decision.offset)?.headers ?? {},
        attributes: {
          'messaging.kafka.offset': decision.offset,
          'timeline.command_id': decision.commandId,
          'timeline.outcome': decision.outcome,
          ...(decision.reason ? { 'timeline.reason': decision.reason } : {}),
        },
      })),
    );
  }
}
