import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { OutboxRepository, OutboxSignal, ReadRouter, type OutboxRow, type ReadModels, type StreamFilter, type WalPosition } from '@timeline/database';
import { ApiMetrics } from '../observability/api-metrics';
import { Problem } from '@timeline/problems';
import { SseClient, type SseSink } from './sse-client';
import { StreamLimits, type Release } from './stream-limits';

/** A stream allowed to open: where it starts, and the slots it holds until it closes (and, for a catch-up, until it is live). */
export interface StreamAdmission {
  start: number;
  releaseClient: Release;
  releaseCatchUp: Release | null;
}

const PAGE_SIZE = 500;

/**
 * The one reader of the outbox for every SSE client of this api instance. It
 * polls (woken early by each committed projector batch) and hands each page to
 * the live clients, which never block it; with none, it reads nothing. A client that resumes from an older
 * position catches up with reads of its own, paced by its socket, and joins the
 * live feed once it has reached the feed's head: no gap, no duplicate at the seam.
 */
@Injectable()
export class StreamFeed implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(StreamFeed.name);
  /** Every row up to this position has been handed to the live clients. */
  private head = 0;
  private readonly live = new Set<SseClient>();
  private readonly clients = new Set<SseClient>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly limits: StreamLimits;

  constructor(
    private readonly config: TimelineConfig,
    private readonly outbox: OutboxRepository,
    private readonly signal: OutboxSignal,
    private readonly reads: ReadRouter,
    metrics: ApiMetrics,
  ) {
    this.limits = new StreamLimits(config.stream, (limit) => metrics.requestLimited(limit));
  }

  async onModuleInit(): Promise<void> {
    this.head = await this.outbox.head();
    this.signal.start();
    this.running = this.loop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.signal.wake();
    await this.running;
    for (const client of [...this.clients]) client.close();
    this.signal.stop();
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Admits a stream of `client` that starts after `position` (see `startAfter`),
   * or throws the problem of the limit it would pass: too many streams of the
   * client or of the process, or, when it starts behind the feed and so reads
   * history first, too many catch-ups at once for longer than it may wait.
   */
  async admit(client: string, position: number | undefined, field?: string): Promise<StreamAdmission> {
    const releaseClient = this.limits.admitClient(client);
    try {
      const start = await this.startAfter(position, field);
      // Without live clients the feed's head is not kept current: compare with the outbox's.
      await this.refreshIdleHead();
      const releaseCatchUp = start < this.head ? await this.limits.admitCatchUp() : null;
      return { start, releaseClient, releaseCatchUp };
    } catch (error) {
      releaseClient();
      throw error;
    }
  }

  /**
   * Where a client starts: after `position` (0: the beginning), or after the
   * last change visible now when there is none. A position that names no row
   * is a 400.
   */
  async startAfter(position: number | undefined, field = 'query.after'): Promise<number> {
    if (position === undefined) return this.outbox.head();
    if (position === 0) return 0;
    const start = await this.outbox.resumeAfter(position);
    if (start === null) throw Problem.invalid([{ field, message: `no change at stream position ${position}` }]);
    return start;
  }

  /**
   * Streams to `sink` until it closes: catch-up first when `start` is behind the feed, then live. Catch-up
   * pages are reads like any query's (a replica, having replayed up to `atLeast` when given); a page that
   * a lagging replica could not take any further is read again on the primary.
   */
  async serve(sink: SseSink, admission: StreamAdmission, filter: StreamFilter, accessUntil: number | null, atLeast?: WalPosition): Promise<void> {
    const releaseCatchUp = admission.releaseCatchUp ?? (() => {});
    const client: SseClient = new SseClient(sink, {
      cursor: admission.start,
      filter,
      baseUrl: this.config.publicBaseUrl,
      maxQueuedBytes: this.config.stream.clientBufferBytes,
      heartbeatMs: this.config.stream.heartbeatMs,
      accessUntil,
      onClose: () => {
        this.live.delete(client);
        this.clients.delete(client);
        releaseCatchUp();
        admission.releaseClient();
      },
    });
    this.clients.add(client);
    client.open();
    try {
      await this.refreshIdleHead();
      while (!client.closed && !this.stopped) {
        const upTo = this.head;
        // No await between this check and joining: the feed cannot move in between.
        if (client.cursor >= upTo) {
          this.live.add(client);
          releaseCatchUp();
          return;
        }
        const from = client.cursor;
        const page = (models: ReadModels) => models.outbox.catchUpPage(from, PAGE_SIZE, filter, upTo);
        let { rows, completeUpTo } = await this.reads.read(atLeast, page);
        if (rows.length === 0 && completeUpTo <= from) ({ rows, completeUpTo } = await this.reads.readPrimary(page));
        client.sendPage(rows, rows.length < PAGE_SIZE ? completeUpTo : undefined);
        await client.drained();
      }
    } catch (error) {
      this.logger.warn(`stream client closed in catch-up: ${(error as Error).message}`);
      client.close();
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.advance();
      } catch (error) {
        this.logger.warn(`stream feed could not read the outbox: ${(error as Error).message}`);
      }
      await this.signal.wait(this.config.stream.pollIntervalMs);
    }
  }

  /**
   * With no live client the feed does not follow the outbox (no query per committed batch): a client
   * about to join brings the head up to date first, so that the feed does not re-read what it catches up on.
   */
  private async refreshIdleHead(): Promise<void> {
    if (this.live.size > 0) return;
    const head = await this.outbox.head();
    // A client that joined meanwhile has the feed read on from the head it found: moving it now would skip rows.
    if (this.live.size === 0 && head > this.head) this.head = head;
  }

  private async advance(): Promise<void> {
    if (this.live.size === 0) return;
    for (let rows: OutboxRow[] = []; !this.stopped;) {
      rows = await this.outbox.readAfter(this.head, PAGE_SIZE);
      if (rows.length === 0) return;
      this.head = rows[rows.length - 1].position;
      for (const client of this.live) client.deliver(rows);
      if (rows.length < PAGE_SIZE) return;
    }
  }
}
