/**
 * Open-model HTTP load: requests leave at a fixed offered rate whatever the answers do (a closed loop slows
 * down with the server and hides queueing). A timer sends what is due; the request i is due at
 * start + i / rate, and its latency counts from then, so a sender that falls behind does not hide the wait
 * (no coordinated omission). Connections are opened as needed (keep-alive, no limit).
 */
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
  const inFlight = new Set<Promise<void>>();
  const send = (path: string, dueAt: number) =>
    new Promise<void>((resolve) => {
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
            spec.onAnswer?.({ dueAt, answeredAt, status, body: Buffer.concat(chunks).toString('utf8') });
            resolve();
          });
          response.on('error', () => {
            errors++;
            resolve();
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error('timeout')));
      request.on('error', () => {
        errors++;
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
  return {
    offeredPerSecond: round(spec.ratePerSecond, 1),
    durationS: round((performance.now() - startedAt) / 1000, 2),
    sent,
    statuses,
    errors,
    latencyMs: summarize(latencies),
  };
}
