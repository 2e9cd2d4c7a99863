/**
 * Open-model HTTP load: requests leave at a fixed offered rate whatever the answers do (a closed loop slows
 * down with the server and hides queueing). A timer sends what is due; the request i is due at
 * start + i / rate, and its latency counts from then, so a sender that falls behind does not hide the wait
 * (no coordinated omission). Connections are opened as needed (keep-alive, no limit).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { summarize, round, type LatencySummary } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface OpenLoadSpec {
  baseUrl: string;
  /** Paths visited round-robin. */
  paths: string[];
  body: string;
  ratePerSecond: number;
  durationS: number;
  /** Every answer, with the time its request was due (performance.now() ms). */
  onAnswer?: (answer: OpenLoadAnswer) => void;
  /** When given, every request's times and status are pushed here (for the latency-over-time picture). */
  samples?: OpenLoadSample[];
}

/** One request of the load; times in ms since the epoch, so that they line up with other processes' logs. */
export interface OpenLoadSample {
  dueAt: number;
  /** When the generator got to send it: later than `dueAt` when the generator itself ran late. */
  sentAt: number;
  /** The answer's end, or when the request failed. */
  answeredAt: number;
  /** 0: no answer. */
  status: number;
}

export interface OpenLoadAnswer {
  dueAt: number;
  answeredAt: number;
  status: number;
  body: string;
}

export interface OpenLoadResult {
  offeredPerSecond: number;
  durationS: number;
  sent: number;
  /** Answers by status. */
  statuses: Record<string, number>;
  /** No answer: connection errors and timeouts. */
  errors: number;
  /** The unanswered by cause: `timeout` (this generator's own REQUEST_TIMEOUT_MS), else the socket error's code. */
  errorsByCause: Record<string, number>;
  /** Answers that came later than 5 s after their request was due. */
  answeredAfter5s: number;
  /** TCP connections this generator opened (keep-alive reuses an idle one; a busy pool opens more). */
  connectionsOpened: number;
  /**
   * The kernel's ListenOverflows / ListenDrops during the run (Linux, whole machine): connections that found
   * an accept queue full, whose SYN or handshake ACK was dropped and retried after 1, 3, 7, 15, 31 s.
   */
  listenQueue: { overflows: number; drops: number } | null;
  /** Of all answers, whatever their status, in milliseconds from when the request was due. */
  latencyMs: LatencySummary;
}

const REQUEST_TIMEOUT_MS = 30_000;

export async function offerLoad(spec: OpenLoadSpec): Promise<OpenLoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const target = new URL(spec.baseUrl);
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  const errorsByCause: Record<string, number> = {};
  const noAnswer = (cause: string) => {
    errors++;
    errorsByCause[cause] = (errorsByCause[cause] ?? 0) + 1;
  };
  let answeredAfter5s = 0;
  const sockets = new WeakSet<object>();
  let connectionsOpened = 0;
  const listenBefore = listenQueueCounters();
  const inFlight = new Set<Promise<void>>();
  const epochOf = (monotonic: number) => performance.timeOrigin + monotonic;
  const sample = (dueAt: number, sentAt: number, status: number) =>
    spec.samples?.push({ dueAt: epochOf(dueAt), sentAt: epochOf(sentAt), answeredAt: epochOf(performance.now()), status });
  const send = (path: string, dueAt: number) =>
    new Promise<void>((resolve) => {
      const sentAt = performance.now();
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(spec.body), ...runCredentials.authorization },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const answeredAt = performance.now();
            const status = response.statusCode ?? 0;
            statuses[status] = (statuses[status] ?? 0) + 1;
            latencies.push(answeredAt - dueAt);
            if (answeredAt - dueAt > 5_000) answeredAfter5s++;
            spec.onAnswer?.({ dueAt, answeredAt, status, body: Buffer.concat(chunks).toString('utf8') });
            sample(dueAt, sentAt, status);
            resolve();
          });
          response.on('error', (error: NodeJS.ErrnoException) => {
            noAnswer(error.code ?? error.message);
            sample(dueAt, sentAt, 0);
            resolve();
          });
        },
      );
      request.on('socket', (socket) => {
        if (sockets.has(socket)) return;
        sockets.add(socket);
        connectionsOpened++;
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      request.on('error', (error: NodeJS.ErrnoException) => {
        noAnswer(error.code ?? error.message);
        sample(dueAt, sentAt, 0);
        resolve();
      });
      request.end(spec.body);
    });

  const total = Math.round(spec.ratePerSecond * spec.durationS);
  const intervalMs = 1000 / spec.ratePerSecond;
  const startedAt = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && startedAt + sent * intervalMs <= now) {
        const answered = send(spec.paths[sent % spec.paths.length], startedAt + sent * intervalMs);
        inFlight.add(answered);
        void answered.then(() => inFlight.delete(answered));
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, startedAt + sent * intervalMs - performance.now()));
      else resolve();
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  const listenAfter = listenQueueCounters();
  return {
    offeredPerSecond: round(spec.ratePerSecond, 1),
    durationS: round((performance.now() - startedAt) / 1000, 2),
    sent,
    statuses,
    errors,
    errorsByCause,
    answeredAfter5s,
    connectionsOpened,
    listenQueue:
      listenBefore && listenAfter ? { overflows: listenAfter.overflows - listenBefore.overflows, drops: listenAfter.drops - listenBefore.drops } : null,
    latencyMs: summarize(latencies),
  };
}

/** TcpExt ListenOverflows and ListenDrops from /proc/net/netstat, or null where there is none. */
function listenQueueCounters(): { overflows: number; drops: number } | null {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const names = lines.find((line) => line.startsWith('TcpExt:'))?.split(/\s+/);
    const values = lines.filter((line) => line.startsWith('TcpExt:'))[1]?.split(/\s+/);
    if (!names || !values) return null;
    const read = (name: string) => Number(values[names.indexOf(name)] ?? NaN);
    return { overflows: read('ListenOverflows'), drops: read('ListenDrops') };
  } catch {
    return null;
  }
}
