import { randomUUID } from 'node:crypto';
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, paths } from './openapi';

type Schemas = components['schemas'];
export type TimelineApi = Client<paths>;

/** An RFC 9457 problem the api answered with, as an error. */
export class TimelineProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: { type?: string; title?: string; detail?: string; [extension: string]: unknown },
  ) {
    super(`${status} ${problem.title ?? 'problem'}: ${problem.detail ?? ''}`);
  }
}

export interface TimelineClientOptions extends ClientOptions {
  /** How long to wait for a command answered `202` to be decided (default 30 s). */
  decisionTimeoutMs?: number;
  /** Between two looks at GET /v1/commands/{commandId} (default 200 ms). */
  pollIntervalMs?: number;
  /** Writes answered `503` or `429` with `retryable: true` are sent again this many times, after `Retry-After` (default 3). */
  retries?: number;
  /**
   * The bearer token every request carries (`Authorization: Bearer …`): a string, or a function asked before
   * each request (to renew a short-lived token from an identity provider). None: requests go without one.
   */
  accessToken?: string | (() => string | Promise<string>);
}

/**
 * Read your own writes (invariant 9): keeps the greatest `Consistency-Token` of this client's write answers
 * and sends it on every read (every `GET`), so that a read never sees the read models older than a write this
 * client was answered, whichever database copy serves it. Version-1 tokens (`v1.` and 16 hex digits) sort as
 * strings in the order of the positions they carry; a token of another form replaces the one kept.
 */
export class ConsistencyTokens {
  private greatest: string | null = null;

  /** The token reads carry now; null before the first write answer that carried one. */
  get current(): string | null {
    return this.greatest;
  }

  /** Keeps `token` when it is later than the one kept. */
  observe(token: string | null): void {
    if (!token) return;
    if (this.greatest === null || !TOKEN_V1.test(token) || !TOKEN_V1.test(this.greatest) || token > this.greatest) this.greatest = token;
  }

  /** openapi-fetch middleware: sends the token on reads, keeps the token of every answer that carries one. */
  middleware(): Middleware {
    return {
      onRequest: ({ request }) => {
        if (request.method === 'GET' && this.greatest !== null && !request.headers.has(CONSISTENCY_TOKEN))
          request.headers.set(CONSISTENCY_TOKEN, this.greatest);
        return request;
      },
      onResponse: ({ response }) => {
        this.observe(response.headers.get(CONSISTENCY_TOKEN));
        return response;
      },
    };
  }
}

const CONSISTENCY_TOKEN = 'consistency-token';
const TOKEN_V1 = /^v1\.[0-9a-f]{16}$/;

export interface WriteOptions {
  /** Makes the write safe to retry; the client makes one up when not given, and reuses it for its own retries. */
  idempotencyKey?: string;
  /** The version the write expects (sent as `If-Match`); another is a 409 `version-conflict`. */
  expectedVersion?: number;
}

interface Sent<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * The api for services that call it: every path and body typed from the
 * OpenAPI document (`api`), and writes that handle what a caller otherwise
 * gets wrong: each carries an Idempotency-Key, `If-Match` comes from
 * `expectedVersion`, a `202` is followed until the command is decided and
 * answered as a retry with the same key is (with the first answer), and a
 * retryable `503` or `429` is retried after `Retry-After`. A rejection throws a
 * `TimelineProblem`. Reads carry the greatest `Consistency-Token` of this client's writes
 * (`ConsistencyTokens`): a read sees every write this client was answered.
 */
export class TimelineClient {
  readonly api: TimelineApi;
  private readonly decisionTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly retries: number;

  private readonly consistency = new ConsistencyTokens();

  constructor({ decisionTimeoutMs = 30_000, pollIntervalMs = 200, retries = 3, accessToken, ...options }: TimelineClientOptions) {
    this.api = createClient<paths>(options);
    this.api.use(this.consistency.middleware());
    if (accessToken !== undefined) {
      const tokenOf = typeof accessToken === 'function' ? accessToken : () => accessToken;
      this.api.use({
        async onRequest({ request }) {
          request.headers.set('authorization', `Bearer ${await tokenOf()}`);
          return request;
        },
      });
    }
    this.decisionTimeoutMs = decisionTimeoutMs;
    this.pollIntervalMs = pollIntervalMs;
    this.retries = retries;
  }

  /** The token this client's reads carry: the greatest of its writes' answers (null before the first). */
  get consistencyToken(): string | null {
    return this.consistency.current;
  }

  createTimeline(timelineId: string, body: Schemas['CreateTimelineRequest'], options: WriteOptions = {}) {
    return this.write(options, (headers) => this.api.PUT('/v1/timelines/{timelineId}', { params: { path: { timelineId }, header: headers }, body }));
  }

  recordEvent(timelineId: string, body: Schemas['RecordEventRequest'], options: WriteOptions = {}) {
    return this.write(options, (headers) => this.api.POST('/v1/timelines/{timelineId}/events', { params: { path: { timelineId }, header: headers }, body }));
  }

  reviseEvent(eventId: string, body: Schemas['ReviseEventRequest'], options: WriteOptions = {}) {
    return this.write(options, (headers) => this.api.POST('/v1/events/{eventId}/revisions', { params: { path: { eventId }, header: headers }, body }));
  }

  retractEvent(eventId: string, body: Schemas['RetractEventRequest'], options: WriteOptions = {}) {
    return this.write(options, (headers) => this.api.POST('/v1/events/{eventId}/retraction', { params: { path: { eventId }, header: headers }, body }));
  }

  /** A command's decision; `pending` while there is none. */
  async commandStatus(commandId: string): Promise<Schemas['CommandStatus']> {
    return answerOf(await this.api.GET('/v1/commands/{commandId}', { params: { path: { commandId } } }));
  }

  /** The answer once decided: never the `202` (CommandPending) of the first try. */
  private async write<T>(options: WriteOptions, send: (headers: WriteHeaders) => Promise<Sent<T>>): Promise<Exclude<T, Schemas['CommandPending']>> {
    const headers: WriteHeaders = {
      'Idempotency-Key': options.idempotencyKey ?? randomUUID(),
      ...(options.expectedVersion === undefined ? {} : { 'If-Match': `"${options.expectedVersion}"` }),
    };
    for (let attempt = 0; ; attempt += 1) {
      const sent = await send(headers);
      const { status } = sent.response;
      if (status === 202) {
        await this.decided((sent.data as Schemas['CommandPending']).commandId);
        continue; // answered from the decision, as every retry with the same key is
      }
      const retryAfter = Number(sent.response.headers.get('retry-after') ?? 1);
      // Overloaded, the log unavailable, or this client's rate limit: with the same Idempotency-Key a retry is safe either way.
      if ((status === 503 || status === 429) && isRetryable(sent.error) && attempt < this.retries) {
        await sleep(Math.min(retryAfter, 30) * 1_000);
        continue;
      }
      return answerOf(sent) as Exclude<T, Schemas['CommandPending']>;
    }
  }

  private async decided(commandId: string): Promise<void> {
    const deadline = Date.now() + this.decisionTimeoutMs;
    while ((await this.commandStatus(commandId)).status === 'pending') {
      if (Date.now() > deadline)
        throw new Error(`command ${commandId} was not decided within ${this.decisionTimeoutMs} ms; ask GET /v1/commands/${commandId} later`);
      await sleep(this.pollIntervalMs);
    }
  }
}

type WriteHeaders = { 'Idempotency-Key': string; 'If-Match'?: string };

function answerOf<T>({ data, error, response }: Sent<T>): T {
  if (error !== undefined || !response.ok) throw new TimelineProblem(response.status, (error ?? {}) as TimelineProblem['problem']);
  return data as T;
}

function isRetryable(problem: unknown): boolean {
  return typeof problem === 'object' && problem !== null && (problem as { retryable?: unknown }).retryable === true;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
