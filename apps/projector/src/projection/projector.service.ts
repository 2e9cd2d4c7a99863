import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CommandLog, type BatchControl, type LogRecord, type PartitionBatch, type Subscription } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { ProjectionRepository } from '@timeline/database';
import { ProjectorTelemetry } from '../observability/projector-telemetry';
import { decideBatch, parseRecord, referencedIds, type DecidedBatch } from './decide-batch';

type ChunkOutcome = { kind: 'applied' | 'already-applied' } | { kind: 'seek'; offset: number };

const RETRY_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 5_000];

/**
 * Consumes timeline.commands partition by partition and, for each chunk of a
 * batch, decides and projects it in one PostgreSQL transaction that also moves
 * the partition's stored offset (compare-and-set).
 */
@Injectable()
export class ProjectorService implements OnApplicationShutdown {
  private readonly logger = new Logger(ProjectorService.name);
  private subscription: Subscription | null = null;
  /** Offsets we asked Kafka to re-read from; a gap found again at the same place is a real gap. */
  private readonly soughtTo = new Map<number, number>();
  private ceiling: ReadonlyMap<number, number> | null = null;

  constructor(
    private readonly config: TimelineConfig,
    private readonly log: CommandLog,
    private readonly projection: ProjectionRepository,
    private readonly telemetry: ProjectorTelemetry,
  ) {}

  async start(): Promise<void> {
    const topic = this.config.kafka.commandsTopic;
    this.subscription = await this.log.subscribe({
      topic,
      groupId: this.config.kafka.consumerGroup,
      sessionTimeoutMs: this.config.kafka.sessionTimeoutMs,
      startOffsets: async (partitions) => {
        const stored = await this.projection.storedOffsets(topic);
        this.logger.log(`assigned partitions ${partitions.join(', ') || '(none)'}; starting at stored offsets`);
        return new Map(partitions.map((partition) => [partition, stored.get(partition) ?? 0]));
      },
      handler: (batch, control) => this.handleBatch(batch, control),
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
    const size = this.config.projector.maxBatch;
    for (let start = 0; start < batch.records.length; start += size) {
      const fetched = batch.records.slice(start, start + size);
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

  /** A transient failure retries the same chunk; nothing is ever skipped. */
  private async applyWithRetry(topic: string, partition: number, chunk: LogRecord[], control: BatchControl) {
    for (let attempt = 0; control.isActive(); attempt += 1) {
      try {
        return await this.applyChunk(topic, partition, chunk);
      } catch (error) {
        const message = (error as Error).message;
        const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)];
        this.logger.error(`partition ${partition} offsets ${chunk[0].offset}-${chunk.at(-1)!.offset} failed, retrying in ${delay} ms: ${message}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
    return null;
  }

  private async applyChunk(topic: string, partition: number, chunk: LogRecord[]): Promise<ChunkOutcome> {
    const startedAt = Date.now();
    const started = performance.now();
    const committed: { batch?: DecidedBatch } = {};
    const outcome = await this.projection.inTransaction(async (client): Promise<ChunkOutcome> => {
      const stored = await this.projection.lockOffset(client, topic, partition);
      const last = chunk[chunk.length - 1].offset;
      if (stored > last) return { kind: 'already-applied' };
      const gapIsReal = this.soughtTo.get(partition) === stored;
      if (stored < chunk[0].offset && !gapIsReal) return { kind: 'seek', offset: stored };
      const records = chunk.filter((record) => record.offset >= stored).map(parseRecord);
      const ids = referencedIds(records);
      const { alreadyDecided, ...state } = await this.projection.loadBatchState(client, ids);
      const decided = decideBatch(topic, records, state, alreadyDecided);
      const saved = await this.projection.saveBatch(client, { topic, partition, firstOffset: stored, nextOffset: last + 1, ...decided });
      if (!saved) throw new Error(`offset of partition ${partition} moved under us; retrying from the stored offset`);
      this.soughtTo.delete(partition);
      committed.batch = decided;
      return { kind: 'applied' };
    });
    if (committed.batch) {
      const seconds = (performance.now() - started) / 1_000;
      this.telemetry.batchCommitted({ topic, partition, records: chunk, decisions: committed.batch.decisions, startedAt, seconds });
    }
    return outcome;
  }
}
