import type { OutboxRow, StreamFilter } from '@timeline/database';
import { changeCloudEvent } from '@timeline/change-events';
import { sseComment, sseEvent, sseMessage } from './sse';

/** The part of a Node.js writable (an HTTP response) that a client writes to. */
export interface SseSink {
  write(chunk: string): boolean;
  readonly writableNeedDrain: boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  end(): void;
  destroy(): void;
}

export interface SseClientOptions {
  /** The position after which this client starts. */
  cursor: number;
  filter: StreamFilter;
  /** Where the api is reached: CloudEvents name their source and data schema under it. */
  baseUrl: string;
  /** Frames waiting beyond the socket's own buffer; past this a live client is cut off. */
  maxQueuedBytes: number;
  heartbeatMs: number;
  /** When the token that opened the stream expires (ms since the epoch): the stream ends at the first heartbeat past it. */
  accessUntil: number | null;
  onClose: () => void;
}

// After an overflow the client has this long to read what was already written, the overflow event included.
const CLOSE_GRACE_MS = 30_000;

export function matchesFilter(row: OutboxRow, filter: StreamFilter): boolean {
  if (filter.timelineId !== undefined && row.timelineId !== filter.timelineId) return false;
  if (filter.changeTypes !== undefined && !filter.changeTypes.includes(row.changeType)) return false;
  return true;
}

/**
 * One SSE connection. Frames go to the socket while it takes them and wait in
 * a queue of our own while it does not. In catch-up the caller waits for the
 * queue to drain between pages; live, nothing waits: a client whose queue
 * passes the bound gets `event: overflow` and is closed, so that a slow
 * client costs memory up to the bound and never delays the others.
 */
export class SseClient {
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private drainWaiters: (() => void)[] = [];
  private wroteSinceHeartbeat = false;
  private readonly heartbeat: NodeJS.Timeout;
  private cursorPosition: number;
  closed = false;

  constructor(
    private readonly sink: SseSink,
    private readonly options: SseClientOptions,
  ) {
    this.cursorPosition = options.cursor;
    sink.on('drain', () => this.flush());
    sink.on('close', () => this.close());
    this.heartbeat = setInterval(() => {
      // Checked at each heartbeat, not with a timer at exp: a token may outlive setTimeout's 24.8-day bound.
      if (options.accessUntil !== null && Date.now() >= options.accessUntil) {
        this.endWith('token-expired', { detail: 'the token that opened this stream has expired; reconnect with a valid token and Last-Event-ID to resume' });
        return;
      }
      if (!this.wroteSinceHeartbeat && this.queue.length === 0) this.send(sseComment('heartbeat'));
      this.wroteSinceHeartbeat = false;
    }, options.heartbeatMs);
    this.heartbeat.unref();
  }

  /** The position of the last row this client has been given or passed over. */
  get cursor(): number {
    return this.cursorPosition;
  }

  /** Catch-up rows, already filtered by the query; `through` moves the cursor past rows the filter left out. */
  sendPage(rows: OutboxRow[], through?: number): void {
    for (const row of rows) this.sendRow(row);
    if (through !== undefined && through > this.cursorPosition) this.cursorPosition = through;
  }

  /**
   * Live rows from the shared feed, in stream order; rows at or before the
   * cursor were sent in catch-up. The bound is checked before queueing: a
   * page arrives all at once, so what counts is whether the client has
   * drained the earlier ones. A client's queue thus holds at most the bound
   * plus one page.
   */
  deliver(rows: readonly OutboxRow[]): void {
    if (this.queuedBytes > this.options.maxQueuedBytes) {
      this.overflow();
      return;
    }
    for (const row of rows) {
      if (this.closed) return;
      if (row.position <= this.cursorPosition) continue;
      if (matchesFilter(row, this.options.filter)) this.sendRow(row);
      else this.cursorPosition = row.position;
    }
  }

  /** Resolves when the queue is empty and the socket takes more, or the client is closed. */
  drained(): Promise<void> {
    if (this.closed || (this.queue.length === 0 && !this.sink.writableNeedDrain)) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  open(): void {
    this.send(sseComment('connected'));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.sink.end();
    this.settleDrainWaiters();
    this.options.onClose();
  }

  private overflow(): void {
    const detail = `more than ${this.options.maxQueuedBytes} bytes were waiting for this client; reconnect with Last-Event-ID to resume`;
    this.endWith('overflow', { reason: 'client-too-slow', detail });
  }

  /** Ends the stream with a named event, written behind what the socket already holds so a client that reads on finds it. */
  private endWith(event: string, data: Record<string, string>): void {
    if (this.closed) return;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.sink.write(sseEvent(event, data));
    const destroy = setTimeout(() => this.sink.destroy(), CLOSE_GRACE_MS);
    destroy.unref();
    this.sink.on('close', () => clearTimeout(destroy));
    this.close();
  }

  private sendRow(row: OutboxRow): void {
    this.cursorPosition = row.position;
    this.send(sseMessage(row.position, changeCloudEvent(row, this.options.baseUrl)));
  }

  private send(frame: string): void {
    if (this.closed) return;
    this.wroteSinceHeartbeat = true;
    if (this.queue.length === 0 && !this.sink.writableNeedDrain) {
      this.sink.write(frame);
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += Buffer.byteLength(frame);
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.sink.writableNeedDrain && !this.closed) {
      const frame = this.queue.shift()!;
      this.queuedBytes -= Buffer.byteLength(frame);
      this.sink.write(frame);
    }
    if (this.queue.length === 0) this.settleDrainWaiters();
  }

  private settleDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
