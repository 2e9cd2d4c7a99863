import { Injectable } from '@nestjs/common';
import type { LogRecord } from '@timeline/command-log';
import type { DecisionRow } from '@timeline/database';
import { ProjectorMetrics, recordBatchSpans } from '@timeline/observability';

export interface CommittedBatch {
  topic: string;
  partition: number;
  records: LogRecord[];
  decisions: DecisionRow[];
  /** When the transaction began (ms since the epoch) and how long it took until its commit. */
  startedAt: number;
  seconds: number;
}

/** What the projector reports after each committed transaction: metrics and trace spans. */
@Injectable()
export class ProjectorTelemetry {
  constructor(private readonly metrics: ProjectorMetrics) {}

  batchCommitted({ topic, partition, records, decisions, startedAt, seconds }: CommittedBatch): void {
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
