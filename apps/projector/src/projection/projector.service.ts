import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CommandLog, type BatchControl, type LogRecord, type PartitionBatch, type Subscription } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { ConsumerOffsetsRepository, ProjectionRepository } from '@timeline/database';
import { ProjectorTelemetry } from '../observability/projector-telemetry';
import { retryDelayMs } from '../retry-delay';
import { classifyFailure, failureDetail, type FailureClass } from './batch-failure';
import { BatchApplier, type ChunkOutcome, type DecideRecords } from './batch-applier';
import { decisionDetail, rejectedRecord, type ParsedRecord } from '@timeline/projection';

/**
 * Consumes timeline.commands partition by partition and, for each chunk of a
 * batch, decides and projects it in one PostgreSQL call that also moves the
 * partition's stored offset (compare-and-set): see BatchApplier.
 */
@Injectable()
export class ProjectorService implements OnApplicationShutdown {
  private readonly logger = new Logger(ProjectorService.name);
  private subscription: Subscription | null = null;
  /** Offsets we asked Kafka to re-read from; a gap found again at the same place is a real gap. */
  private readonly soughtTo = new Map<number, number>();
  private ceiling: ReadonlyMap<number, number> | null = null;
  /** Each partition's end offset as last fetched: a stored offset past it means Kafka lost records. */
  private readonly logEnds = new Map<number, number>();
  /** Partitions with a row in partition_failures that a later success must delete. */
  private readonly failureRowsToClear = new Set<number>();
  private readonly applier: BatchApplier;

  constructor(
    private readonly config: TimelineConfig,
    private readonly log: CommandLog,
    private readonly projection: ProjectionRepository,
    private readonly consumerOffsets: ConsumerOffsetsRepository,
    private readonly telemetry: ProjectorTelemetry,
  ) {
    this.applier = new BatchApplier(config.kafka.commandsTopic, projection);
  }

  async start(): Promise<void> {
    const topic = this.config.kafka.commandsTopic;
    this.subscription = await this.log.subscribe({
      topic,
      groupId: this.config.kafka.consumerGroup,
      sessionTimeoutMs: this.config.kafka.sessionTimeoutMs,
      onJoinError: (error) => this.logger.warn(`stored offsets not read on assignment (${error.message}); each batch finds its own`),
      startOffsets: async (partitions) => {
        this.applier.forgetAll();
        const stored = await this.consumerOffsets.nextOffsets(topic);
        this.logger.log(`assigned partitions ${partitions.join(', ') || '(none)'}; starting at stored offsets`);
        return new Map(partitions.map((partition) => [partition, stored.get(partition) ?? 0]));
      },
      handler: (batch, control) => this.handleBatch(batch, control),
      onHandlerError: (partition, error) => this.logger.error(`partition ${partition}: batch failed, reading it again: ${failureDetail(error)}`),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscription?.stop();
  }

  /**
   * Offsets per partition this projector must not pass: a read-model switch
   * holds a rebuilding projector at the live one's offsets. null: no limit.
   */
  holdBelow(ceiling: ReadonlyMap<number, number> | null): void {
    this.ceiling = ceiling;
  }

  private async handleBatch(batch: PartitionBatch, control: BatchControl): Promise<void> {
    this.telemetry.batchFetched(batch.records);
    this.logEnds.set(batch.partition, batch.highWatermark);
    const size = this.config.projector.maxBatch;
    const chunks = Array.from({ length: Math.ceil(batch.records.length / size) }, (_, index) => batch.records.slice(index * size, (index + 1) * size));
    for (const fetched of chunks) {
      const chunk = await this.belowCeiling(batch.partition, fetched, control);
      if (chunk.length === 0) return;
      const outcome = await this.applyWithRetry(batch.topic, batch.partition, chunk, control);
      if (!outcome) return; // lost the partition or stopping: the next owner starts from the stored offset
      if (outcome.kind === 'seek') {
        this.soughtTo.set(batch.partition, outcome.offset);
        control.seek(outcome.offset);
        return;
      }
      if (chunk.length < fetched.length) {
        // Held at the ceiling: read on from there later rather than step over the rest.
        control.seek(chunk[chunk.length - 1].offset + 1);
        return;
      }
      await control.heartbeat();
    }
  }

  /** The part of `chunk` below the ceiling; waits while the ceiling leaves none of it. */
  private async belowCeiling(partition: number, chunk: LogRecord[], control: BatchControl): Promise<LogRecord[]> {
    for (;;) {
      const limit = this.ceiling?.get(partition) ?? (this.ceiling ? 0 : Infinity);
      const allowed = chunk.filter((record) => record.offset < limit);
      if (allowed.length > 0 || !control.isActive()) return control.isActive() ? allowed : [];
      await control.heartbeat();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * A transient failure retries the same chunk with backoff; nothing is ever
   * skipped. A failure the records themselves cause never reaches here: it is
   * narrowed to the record that causes it (see `applyNarrowing`).
   */
  private async applyWithRetry(topic: string, partition: number, chunk: LogRecord[], control: BatchControl) {
    for (let attempt = 0; control.isActive(); attempt += 1) {
      try {
        const outcome = await this.applyNarrowing(topic, partition, chunk);
        await this.recovered(topic, partition);
        return outcome;
      } catch (error) {
        const failureClass = classifyFailure(error);
        const message = failureDetail(error);
        await this.failed(topic, partition, failureClass, message);
        const delay = retryDelayMs(attempt);
        this.logger.error(
          `partition ${partition} offsets ${chunk[0].offset}-${chunk.at(-1)!.offset} failed (${failureClass}), retrying in ${delay} ms: ${message}`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return null;
  }

  /** Counts the failure and shows it to operators (metrics, readiness, the ops page through partition_failures). */
  private async failed(topic: string, partition: number, failureClass: FailureClass, message: string): Promise<void> {
    const failing = this.telemetry.batchFailed(partition, failureClass, decisionDetail(message));
    this.failureRowsToClear.add(partition);
    // Best effort: when the database is what fails, this fails too, and the ops page says the database is down.
    await this.projection.recordPartitionFailure(topic, failing).catch(() => undefined);
  }

  private async recovered(topic: string, partition: number): Promise<void> {
    if (this.telemetry.partitionRecovered(partition)) this.logger.log(`partition ${partition} moves again`);
    if (!this.failureRowsToClear.has(partition)) return;
    // Until this succeeds, every committed batch of the partition tries again.
    await this.projection
      .clearPartitionFailure(topic, partition)
      .then(() => this.failureRowsToClear.delete(partition))
      .catch(() => undefined);
  }

  /**
   * Applies the chunk; when the records themselves make it fail, applies each
   * half in turn, down to the one record that fails, which is decided
   * `rejected: unprocessable`. The halves commit in log order, so the outcome
   * is that of applying the records one at a time: the same however a replay
   * cuts the log into batches.
   */
  private async applyNarrowing(topic: string, partition: number, chunk: LogRecord[]): Promise<ChunkOutcome> {
    try {
      return await this.applyChunk(topic, partition, chunk);
    } catch (error) {
      if (classifyFailure(error) !== 'unprocessable') throw error;
      await this.failed(topic, partition, 'unprocessable', failureDetail(error));
      if (chunk.length === 1) return this.applyUnprocessable(topic, partition, chunk[0], error);
      const half = Math.ceil(chunk.length / 2);
      const first = await this.applyNarrowing(topic, partition, chunk.slice(0, half));
      if (first.kind === 'seek') return first;
      return this.applyNarrowing(topic, partition, chunk.slice(half));
    }
  }

  /** Decides the one record the database refused: its decision says why, and the partition moves past it. */
  private async applyUnprocessable(topic: string, partition: number, record: LogRecord, error: unknown): Promise<ChunkOutcome> {
    this.logger.warn(`partition ${partition} offset ${record.offset} refused, decided unprocessable: ${failureDetail(error)}`);
    return this.applyChunk(topic, partition, [record], (records, _state, alreadyDecided) => {
      const undecided = records.filter((parsed) => !alreadyDecided.has(idsOf(parsed).commandId ?? ''));
      const decisions = undecided.map((parsed) =>
        rejectedRecord(topic, parsed.record, idsOf(parsed), 'unprocessable', failureDetail(error), {
          partition: parsed.record.partition,
          offset: parsed.record.offset,
          knownAt: new Date(parsed.record.timestamp).toISOString(),
        }),
      );
      return { decisions, changes: [], timelines: [], events: [], redelivered: [] };
    });
  }

  private async applyChunk(topic: string, partition: number, chunk: LogRecord[], decideRecords?: DecideRecords): Promise<ChunkOutcome> {
    const startedAt = Date.now();
    const started = performance.now();
    const position = { logEnd: this.logEnds.get(partition) ?? Infinity, soughtTo: this.soughtTo.get(partition) };
    const { outcome, committed, applyBatchMs } = await this.applier.apply(partition, chunk, position, decideRecords);
    if (committed) {
      this.soughtTo.delete(partition);
      const seconds = (performance.now() - started) / 1_000;
      this.telemetry.batchCommitted({ topic, partition, records: chunk, decisions: committed.decisions, startedAt, seconds });
      // What the bench's tail mode reads (LOG_LEVEL=debug) to hold slow answers against slow batches.
      this.logger.debug(
        `batch applied: partition ${partition}, offsets ${chunk[0].offset}-${chunk.at(-1)!.offset}, ${chunk.length} records, ` +
          `${committed.decisions.length} decisions, chunk ${(seconds * 1_000).toFixed(2)} ms, apply_batch ${applyBatchMs?.toFixed(2) ?? 'n/a'} ms`,
      );
    }
    return outcome;
  }
}

/** The ids a refused record's decision is stored under: its command's, or what a malformed one names. */
function idsOf({ command, claimed }: ParsedRecord) {
  if (!command) return claimed;
  const timelineId = 'timelineId' in command ? command.timelineId : null;
  return { commandId: command.commandId, commandType: command.type, timelineId, eventId: 'eventId' in command ? command.eventId : null };
}
