import { afterEach, describe, expect, jest, test } from '@jest/globals';
import type { OutboxRow } from '@timeline/database';
import { SseClient, type SseSink } from './sse-client';

/** A socket whose buffer takes `capacity` frames before it needs draining. */
class FakeSink implements SseSink {
  readonly written: string[] = [];
  ended = false;
  private inBuffer = 0;
  private readonly listeners: Record<string, (() => void)[]> = {};
  constructor(private capacity: number) {}
  get writableNeedDrain() {
    return this.inBuffer >= this.capacity;
  }
  write(chunk: string) {
    this.written.push(chunk);
    this.inBuffer += 1;
    return !this.writableNeedDrain;
  }
  on(event: string, listener: () => void) {
    (this.listeners[event] ??= []).push(listener);
  }
  end() {
    this.ended = true;
  }
  destroy() {}
  /** The peer reads everything buffered, again after each refill, until nothing more comes. */
  drain() {
    for (let before = -1; before !== this.written.length;) {
      before = this.written.length;
      this.inBuffer = 0;
      for (const listener of this.listeners.drain ?? []) listener();
    }
  }
  /** The peer reads one buffer's worth. */
  drainOnce() {
    this.inBuffer = 0;
    for (const listener of this.listeners.drain ?? []) listener();
  }
}

const row = (position: number, timelineId = 'a', changeType: OutboxRow['changeType'] = 'EventRecorded'): OutboxRow => ({
  position,
  timelineId,
  changeType,
  commandId: '00000000-0000-4000-8000-000000000001',
  changeIndex: position,
  traceparent: null,
  change: {
    type: 'TimelineCreated',
    commandId: '00000000-0000-4000-8000-000000000001',
    timelineId,
    version: position,
    knownAt: '2023-07-12T00:00:00.000Z',
    timeline: { title: 'x'.repeat(100), description: '', defaultLanguage: 'it' },
  },
});

function client(sink: SseSink, options: Partial<ConstructorParameters<typeof SseClient>[1]> = {}) {
  const closed: string[] = [];
  const sse = new SseClient(sink, {
    cursor: 0,
    filter: {},
    baseUrl: 'https://timeline.example',
    maxQueuedBytes: 1_000,
    heartbeatMs: 60_000,
    accessUntil: null,
    onClose: () => closed.push('closed'),
    ...options,
  });
  return { sse, closed };
}
const ids = (sink: FakeSink) => sink.written.filter((frame) => frame.startsWith('id: ')).map((frame) => Number(frame.slice(4, frame.indexOf('\n'))));

describe('SseClient', () => {
  test('live rows at or before the cursor are not sent again; the rest go out in order as CloudEvents', () => {
    const sink = new FakeSink(100);
    const { sse } = client(sink, { cursor: 2 });
    sse.deliver([row(1), row(2), row(3), row(4)]);
    expect(ids(sink)).toEqual([3, 4]);
    expect(JSON.parse(sink.written[0].split('data: ')[1])).toMatchObject({ specversion: '1.0', type: 'timeline.timeline.created.v1', subject: 'a' });
  });

  test('the filter leaves rows out but the cursor moves past them', () => {
    const sink = new FakeSink(100);
    const { sse } = client(sink, { filter: { timelineId: 'b', changeTypes: ['EventRevised'] } });
    sse.deliver([row(1, 'a', 'EventRevised'), row(2, 'b', 'EventRecorded'), row(3, 'b', 'EventRevised')]);
    expect(ids(sink)).toEqual([3]);
    expect(sse.cursor).toBe(3);
  });

  describe('the token that opened the stream', () => {
    afterEach(() => {
      jest.useRealTimers();
    });

    test('given it expires, when the first heartbeat past its exp comes, then the client is sent token-expired and closed', () => {
      jest.useFakeTimers({ now: Date.UTC(2026, 11, 1, 12, 0, 0) });
      const sink = new FakeSink(100);
      const { closed } = client(sink, { heartbeatMs: 1_000, accessUntil: Date.now() + 2_500 });
      jest.advanceTimersByTime(2_000);
      expect(sink.written).toEqual([': heartbeat\n\n', ': heartbeat\n\n']);
      expect(closed).toEqual([]);
      jest.advanceTimersByTime(1_000);
      expect(sink.written.at(-1)).toMatch(/^event: token-expired\ndata: \{"detail":"the token that opened this stream has expired/);
      expect(sink.ended).toBe(true);
      expect(closed).toEqual(['closed']);
    });

    test('given no expiry (an anonymous public read), then heartbeats go on', () => {
      jest.useFakeTimers({ now: Date.UTC(2026, 11, 1, 12, 0, 0) });
      const sink = new FakeSink(100);
      const { closed } = client(sink, { heartbeatMs: 1_000, accessUntil: null });
      jest.advanceTimersByTime(10_000);
      expect(sink.written).toHaveLength(10);
      expect(closed).toEqual([]);
    });
  });

  test('a client that has not drained the earlier rows when new ones come is sent overflow and closed', () => {
    const sink = new FakeSink(1);
    const { sse, closed } = client(sink);
    sse.deliver([row(1), row(2), row(3), row(4), row(5), row(6), row(7), row(8)]);
    expect(closed).toEqual([]);
    sse.deliver([row(9)]);
    expect(sink.written.at(-1)).toMatch(/^event: overflow\ndata: \{"reason":"client-too-slow"/);
    expect(sink.ended).toBe(true);
    expect(closed).toEqual(['closed']);
    expect(ids(sink)).toEqual([1]);
  });

  test('a client that keeps up is never cut off, however much passes through it', () => {
    const sink = new FakeSink(1);
    const { sse, closed } = client(sink);
    for (let n = 1; n <= 200; n += 5) {
      sse.deliver([row(n), row(n + 1), row(n + 2), row(n + 3), row(n + 4)]);
      sink.drain();
    }
    expect(closed).toEqual([]);
    expect(ids(sink)).toHaveLength(200);
  });

  test('drained() waits for the queue to empty, which is how catch-up is paced', async () => {
    const sink = new FakeSink(1);
    const { sse } = client(sink);
    sse.sendPage([row(1), row(2), row(3)]);
    let drained = false;
    const waiting = sse.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    sink.drainOnce();
    sink.drainOnce();
    expect(drained).toBe(false);
    sink.drainOnce();
    await waiting;
    expect(ids(sink)).toEqual([1, 2, 3]);
  });
});
