import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { CommandLog, type RecordAppender } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { OutboxRepository, OutboxSignal, type OutboxRow, type RelayLease } from '@timeline/database';
import { retryDelayMs } from '../retry-delay';
import { chunkByBytes, toEventRecord } from './kafka-binary';

// One produce call carries at most this much; a single larger record goes alone (the topic takes up to 8 MiB).
const PRODUCE_CALL_BYTES = 1_048_576;
// How long the lease's connection may take to confirm the lock before each round.
const LEASE_CONFIRM_TIMEOUT_MS = 5_000;

/**
 * Publishes outbox rows to timeline.events and then marks them sent: at least
 * once, since a crash between the two re-sends the rows, which subscribers drop
 * by CloudEvents id. One relay at a time holds the lease (an advisory lock);
 * the others wait to take over, so a timeline's changes leave in decision order.
 * Reads unsent rows in position order, which is commit order (positions are
 * taken under a lock), so it waits on no other transaction. Wakes on each
 * committed projector batch (LISTEN) and polls as a fallback.
 */
@Injectable()
export class OutboxRelay implements BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private appender: RecordAppender | null = null;
  private lease: RelayLease | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private lastError: string | null = null;
  private published = 0;

  constructor(
    private readonly config: TimelineConfig,
    private readonly log: CommandLog,
    private readonly outbox: OutboxRepository,
    private readonly signal: OutboxSignal,
  ) {}

  /** Runs the relay loop until shutdown. Call after the projector has started. */
  async start(): Promise<void> {
    await this.open();
    this.signal.start();
    this.running = this.loop();
  }

  /** Connects the producer; enough for a relay driven step by step. */
  async open(): Promise<void> {
    // Every record of a batch is appended at once with no linger, so each produce call carries a whole chunk.
    this.appender ??= await this.log.appender(this.config.kafka.eventsTopic, {
      lingerMs: 0,
      maxBatch: this.config.relay.batchSize,
    });
  }

  status() {
    return { leading: this.lease?.held ?? false, published: this.published, lastError: this.lastError };
  }

  /**
   * Holds the lease, taking it if it is free. False while another relay holds it. The lock is confirmed
   * before every round: a lease whose connection went half-open would otherwise let two relays publish.
   */
  async lead(): Promise<boolean> {
    if (this.lease?.held) {
      if (await this.lease.confirm(LEASE_CONFIRM_TIMEOUT_MS)) return true;
      this.lease = null; // released by the failed confirmation
      this.logger.warn('relay lease lost: its connection no longer holds the lock');
    }
    // Forget a lost lease before trying to take a new one: if that fails, the next round must not release it again.
    const lost = this.lease;
    this.lease = null;
    await lost?.release();
    this.lease = await this.outbox.tryRelayLease();
    if (this.lease) this.logger.log('relaying the outbox to ' + this.config.kafka.eventsTopic);
    return this.lease !== null;
  }

  nextBatch(): Promise<OutboxRow[]> {
    return this.outbox.unsent(this.config.relay.batchSize);
  }

  /** Produces the rows in order, chunk after chunk; a failure leaves the rest unsent, to be retried in order. */
  async publish(rows: OutboxRow[]): Promise<void> {
    const appender = this.appender;
    if (!appender) throw new Error('relay is not open');
    const records = rows.map((row) => toEventRecord(row, this.config.publicBaseUrl));
    for (const chunk of chunkByBytes(records, PRODUCE_CALL_BYTES)) {
      await Promise.all(chunk.map((record) => appender.append(record)));
    }
  }

  markSent(rows: OutboxRow[]): Promise<void> {
    return this.outbox.markSent(rows.map((row) => row.position));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.signal.wake();
    await this.running;
    const lease = this.lease;
    this.lease = null;
    try {
      await lease?.release();
    } finally {
      this.signal.stop();
      // Whatever happened to the lease, the producer must close, or the process cannot exit.
      await this.appender?.close();
      this.appender = null;
    }
  }

  /** Before the pool and the Kafka client close, which the loop still uses. */
  beforeApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  private async loop(): Promise<void> {
    for (let failures = 0; !this.stopped;) {
      try {
        const roundStarted = performance.now();
        const rows = (await this.lead()) ? await this.nextBatch() : [];
        if (rows.length > 0) {
          await this.publish(rows);
          await this.markSent(rows);
          this.published += rows.length;
        }
        failures = 0;
        this.lastError = null;
        // A full batch means more is waiting: go on at once. Otherwise sleep until woken.
        if (rows.length < this.config.relay.batchSize) {
          const gather = gatherMs(this.signal.woken, performance.now() - roundStarted, this.config.relay.gatherMs);
          await this.signal.wait(this.config.relay.pollIntervalMs);
          if (gather > 0) await new Promise((resolve) => setTimeout(resolve, gather));
        }
      } catch (error) {
        this.lastError = (error as Error).message;
        const delay = retryDelayMs(failures++);
        this.logger.error(`relay failed, retrying in ${delay} ms: ${this.lastError}`);
        // Not woken early by notifications: a failing broker or database gets the whole pause.
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}

/**
 * How long the relay lets batches gather after waking, so that one round publishes several. Only when
 * batches committed while the last round published (they come faster than rounds), and no longer than
 * that round took: at most half of a busy relay's time goes to waiting, and where rounds are quick (a
 * machine with room) a change waits little, while a slow round (a loaded machine) is shared by more
 * batches. An idle relay publishes a lone batch at once.
 */
export function gatherMs(committedDuringRound: boolean, roundMs: number, limitMs: number): number {
  return committedDuringRound ? Math.min(limitMs, Math.round(roundMs)) : 0;
}
