/**
 * A steady write load through HTTP, open model: a write starts every 1/rate seconds whatever the
 * answers do, spread over the api instances and the timelines. Every write carries an
 * Idempotency-Key, so a retry (after a 503 or no answer) is the same command and is decided once.
 * Every attempt is kept with its status and times: the audit and the recovery times are read from them.
 */
import { randomUUID } from 'node:crypto';
import { nameBasedUuid } from '@timeline/domain';
import { reportedStatement } from '@timeline/dev-stack';
import { runCredentials } from '../auth/run-credentials';
import { offerAtRate } from './offered-rate';

export type AttemptStatus = number | 'timeout' | 'error';

export interface Attempt {
  write: Write;
  startedAt: number;
  finishedAt: number | null;
  status: AttemptStatus | null;
}

export interface Write {
  kind: 'record' | 'revise';
  key: string;
  timelineId: string;
  eventId: string;
  /** The command id the api derives from the Idempotency-Key (scoped to the timeline). */
  commandId: string;
  attempts: Attempt[];
  /** 'acknowledged': 201/200; 'pending': 202; 'rejected': another 4xx; 'unanswered': no success after the retries. */
  outcome: 'acknowledged' | 'pending' | 'rejected' | 'unanswered' | 'in-flight';
  /** The timeline version the acknowledgement named. */
  version: number | null;
  /**
   * The body of the last answer that was not a success (a problem, for the log), parsed. Successful bodies are not
   * kept: a soak holds some 400,000 writes, and their bodies only fed the driver's heap (which reached 1.4 GiB RSS),
   * whose collector shares the cores with the services under test.
   */
  lastBody?: unknown;
}

export interface WriteLoadOptions {
  apiUrls: string[];
  timelineIds: string[];
  ratePerSecond: number;
  reviseRatio: number;
  maxInFlight: number;
  retries: number;
  requestTimeoutMs: number;
  random: () => number;
  /** Called on each acknowledged write with the answer's Consistency-Token header (null when it had none). */
  onAcknowledged?: (write: Write, consistencyToken: string | null) => void;
}

export const isSuccess = (status: AttemptStatus | null) => status === 201 || status === 200;

export class WriteLoad {
  readonly writes: Write[] = [];
  readonly attempts: Attempt[] = [];
  /** Ticks that found maxInFlight requests busy: the load offered was not sent. */
  skipped = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly running = new Set<Promise<void>>();
  private next = 0;
  private stopping = false;
  /** Recorded events acknowledged 201, which a revision may pick. */
  private readonly revisable: { eventId: string; timelineId: string }[] = [];

  constructor(private readonly options: WriteLoadOptions) {}

  start(): this {
    this.timer = offerAtRate(this.options.ratePerSecond, () => this.launch());
    return this;
  }

  /** Stops starting writes, and waits for those in flight (their retries included). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping = true;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  attemptsBetween(from: number, to: number): Attempt[] {
    return this.attempts.filter((attempt) => attempt.startedAt >= from && attempt.startedAt < to);
  }

  /**
   * The moment writes are healthy again after `since`: the first success after the last failure,
   * once `streak` successes in a row followed it and nothing started before them is still out.
   * Null while that has not happened.
   */
  recoveredAt(since: number, streak: number): number | null {
    const after = this.attempts.filter((attempt) => attempt.startedAt >= since).sort((a, b) => a.startedAt - b.startedAt);
    let lastFailure = -1;
    for (let index = 0; index < after.length; index++) {
      if (after[index].status !== null && !isSuccess(after[index].status)) lastFailure = index;
    }
    const tail = after.slice(lastFailure + 1);
    const firstOpen = tail.findIndex((attempt) => attempt.status === null);
    const settled = firstOpen === -1 ? tail : tail.slice(0, firstOpen);
    if (settled.length < streak) return null;
    return settled[0].finishedAt;
  }

  /** Waits until recoveredAt(since) is known, or `timeoutMs` passes (null then). */
  async waitRecovered(since: number, streak: number, timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.recoveredAt(since, streak);
      if (at !== null || Date.now() > deadline) return at;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private launch(): void {
    if (this.stopping) return;
    if (this.inFlight >= this.options.maxInFlight) {
      this.skipped++;
      return;
    }
    const write = this.newWrite();
    this.writes.push(write);
    const running = this.perform(write).finally(() => this.running.delete(running));
    this.running.add(running);
  }

  private newWrite(): Write {
    const n = this.next++;
    const { random, timelineIds, reviseRatio } = this.options;
    const key = randomUUID();
    const target = this.revisable.length > 0 && random() < reviseRatio ? this.revisable[Math.floor(random() * this.revisable.length)] : null;
    const timelineId = target?.timelineId ?? timelineIds[n % timelineIds.length];
    return {
      kind: target ? 'revise' : 'record',
      key,
      timelineId,
      eventId: target?.eventId ?? randomUUID(),
      commandId: nameBasedUuid(`idempotency:${timelineId}:${key}`),
      attempts: [],
      outcome: 'in-flight',
      version: null,
    };
  }

  private async perform(write: Write): Promise<void> {
    const n = this.writes.length;
    const body =
      write.kind === 'record'
        ? { ...reportedStatement(n), eventId: write.eventId }
        : { changes: { title: `Revisione ${write.key.slice(0, 8)}` }, reason: 'chaos harness revision' };
    const path = write.kind === 'record' ? `/v1/timelines/${write.timelineId}/events` : `/v1/events/${write.eventId}/revisions`;
    for (let attemptNumber = 0; ; attemptNumber++) {
      const baseUrl = this.options.apiUrls[(n + attemptNumber) % this.options.apiUrls.length];
      const attempt: Attempt = { write, startedAt: Date.now(), finishedAt: null, status: null };
      write.attempts.push(attempt);
      this.attempts.push(attempt);
      this.inFlight++;
      let retryAfterMs = 500 * 2 ** attemptNumber;
      let consistencyToken: string | null = null;
      let answer: unknown;
      try {
        const response = await fetch(`${baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': write.key, ...runCredentials.authorization },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        });
        const text = await response.text();
        attempt.status = response.status;
        answer = parseJson(text);
        consistencyToken = response.headers.get('consistency-token');
        const retryAfter = Number(response.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = Math.min(retryAfterMs, retryAfter * 1_000);
      } catch (error) {
        attempt.status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'error';
      } finally {
        attempt.finishedAt = Date.now();
        this.inFlight--;
      }
      const status = attempt.status;
      if (isSuccess(status)) {
        write.outcome = 'acknowledged';
        write.version = (answer as { version?: number } | undefined)?.version ?? null;
        if (write.kind === 'record') this.revisable.push({ eventId: write.eventId, timelineId: write.timelineId });
        this.options.onAcknowledged?.(write, consistencyToken);
        return;
      }
      write.lastBody = answer;
      if (status === 202) {
        write.outcome = 'pending';
        return;
      }
      if (typeof status === 'number' && status >= 400 && status < 500) {
        write.outcome = 'rejected';
        return;
      }
      // 503, 5xx, no answer: retry the same command, unless the load is over or the retries are spent.
      if (attemptNumber >= this.options.retries || this.stopping) {
        write.outcome = 'unanswered';
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
