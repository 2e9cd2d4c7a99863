/**
 * Reads beside the write load, for the scenarios with read replicas: right after each acknowledged write, a
 * read of its timeline carrying the write's Consistency-Token (it must show a version at least the write's),
 * and a steady open-model stream of token-less reads of timeline pages. Every read is kept with its status,
 * times and, for a token-carrying one, whether it was stale.
 */
import { runCredentials } from '../auth/run-credentials';
import type { AttemptStatus, Write } from './write-load';
import { offerAtRate } from './offered-rate';

export interface ReadAttempt {
  kind: 'after-write' | 'plain';
  startedAt: number;
  finishedAt: number | null;
  status: AttemptStatus | null;
  /** A token-carrying read whose timeline version was below the write's. */
  stale: boolean;
  note?: string;
  /** The problem type of an answer other than 200 (e.g. /problems/overloaded). */
  problem?: string;
}

export interface ReadLoadOptions {
  apiUrls: string[];
  timelineIds: string[];
  /** Token-less reads per second. */
  ratePerSecond: number;
  requestTimeoutMs: number;
}

export interface ReadSummary {
  afterWrite: number;
  plain: number;
  /** Acknowledged writes whose answer had no Consistency-Token. */
  missingTokens: number;
  stale: number;
  /** Token-carrying reads whose write named no version to compare with. */
  unchecked: number;
  statuses: Record<string, number>;
  maxAnswerMs: number;
}

export class ReadLoad {
  readonly reads: ReadAttempt[] = [];
  missingTokens = 0;
  unchecked = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private next = 0;

  constructor(private readonly options: ReadLoadOptions) {}

  start(): this {
    this.timer = offerAtRate(this.options.ratePerSecond, () => this.plainRead());
    return this;
  }

  /** The read that follows an acknowledged write: its timeline, with the write's token. */
  afterWrite(write: Write, token: string | null): void {
    if (this.stopping) return;
    if (!token) {
      this.missingTokens++;
      return;
    }
    this.track(
      this.read('after-write', `/v1/timelines/${write.timelineId}`, { 'consistency-token': token }, (attempt, body) => {
        const version = (body as { version?: number } | null)?.version;
        if (write.version === null || typeof version !== 'number') {
          this.unchecked++;
          return;
        }
        if (version < write.version) {
          attempt.stale = true;
          attempt.note = `${write.timelineId}: read version ${version} after a write acknowledged at version ${write.version}`;
        }
      }),
    );
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping = true;
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  summary(): ReadSummary {
    const statuses: Record<string, number> = {};
    let maxAnswerMs = 0;
    for (const read of this.reads) {
      statuses[String(read.status)] = (statuses[String(read.status)] ?? 0) + 1;
      if (read.finishedAt !== null) maxAnswerMs = Math.max(maxAnswerMs, read.finishedAt - read.startedAt);
    }
    return {
      afterWrite: this.reads.filter((read) => read.kind === 'after-write').length,
      plain: this.reads.filter((read) => read.kind === 'plain').length,
      missingTokens: this.missingTokens,
      stale: this.reads.filter((read) => read.stale).length,
      unchecked: this.unchecked,
      statuses,
      maxAnswerMs,
    };
  }

  private plainRead(): void {
    if (this.stopping) return;
    const n = this.next++;
    const timelineId = this.options.timelineIds[n % this.options.timelineIds.length];
    this.track(this.read('plain', `/v1/timelines/${timelineId}/events?limit=20`, {}, () => undefined));
  }

  private track(reading: Promise<void>): void {
    const running = reading.finally(() => this.running.delete(running));
    this.running.add(running);
  }

  private async read(
    kind: ReadAttempt['kind'],
    path: string,
    headers: Record<string, string>,
    check: (attempt: ReadAttempt, body: unknown) => void,
  ): Promise<void> {
    const baseUrl = this.options.apiUrls[this.reads.length % this.options.apiUrls.length];
    const attempt: ReadAttempt = { kind, startedAt: Date.now(), finishedAt: null, status: null, stale: false };
    this.reads.push(attempt);
    try {
      const response = await fetch(`${baseUrl}${path}`, {
        headers: { ...runCredentials.authorization, ...headers },
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const text = await response.text();
      attempt.status = response.status;
      if (response.status === 200) check(attempt, JSON.parse(text));
      else {
        attempt.note = `${path}: ${response.status} ${text.slice(0, 200)}`;
        attempt.problem = problemType(text);
      }
    } catch (error) {
      attempt.status = (error as Error).name === 'TimeoutError' ? 'timeout' : 'error';
    } finally {
      attempt.finishedAt = Date.now();
    }
  }
}

function problemType(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { type?: string }).type;
  } catch {
    return undefined;
  }
}
