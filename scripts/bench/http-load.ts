/**
 * Closed-loop HTTP load with autocannon: N connections, each sending its next request when the previous
 * answer arrives. Latencies are kept raw (autocannon's own histogram has 1 ms resolution) and only
 * 201s count as successes.
 */
import autocannon from 'autocannon';
import { CpuMeter, type CpuUse } from './cpu';
import { summarize, round, type LatencySummary } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface LoadSpec {
  baseUrl: string;
  connections: number;
  warmupS: number;
  durationS: number;
  /** Paths visited round-robin, e.g. /v1/timelines/bench-1/events. */
  paths: string[];
  body: string;
}

export interface LoadResult {
  connections: number;
  durationS: number;
  /** 201s per second of the measured window. */
  requestsPerSecond: number;
  created: number;
  /** Answers other than 201, by status. */
  otherStatuses: Record<string, number>;
  /** Connection errors and timeouts (no answer at all). */
  errors: number;
  timeouts: number;
  /** Of the 201s, in milliseconds. */
  latencyMs: LatencySummary;
  /** CPU used during the measured window, in cores, by process group. */
  cpu?: CpuUse;
}

/** A warm-up run (discarded), then the measured run; with a meter, also where the CPU went meanwhile. */
export async function measureAppends(spec: LoadSpec, meter?: CpuMeter): Promise<LoadResult> {
  if (spec.warmupS > 0) await run(spec, spec.warmupS);
  const before = await meter?.snapshot();
  const result = await run(spec, spec.durationS);
  const after = await meter?.snapshot();
  return before && after ? { ...result, cpu: CpuMeter.between(before, after) } : result;
}

async function run(spec: LoadSpec, durationS: number): Promise<LoadResult> {
  let next = 0;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const startedAt = process.hrtime.bigint();
  const options: autocannon.Options = {
    url: spec.baseUrl,
    connections: spec.connections,
    pipelining: 1,
    duration: durationS,
    timeout: 30,
    headers: { 'content-type': 'application/json', ...runCredentials.authorization },
    requests: [
      {
        method: 'POST',
        body: spec.body,
        setupRequest: (request) => ({ ...request, path: spec.paths[next++ % spec.paths.length] }),
      },
    ],
  };
  let instance!: autocannon.Instance;
  const finished = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode === 201) latencies.push(responseTimeMs);
  });
  const result = await finished;
  const elapsedS = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const { 201: created = 0, ...otherStatuses } = statuses;
  return {
    connections: spec.connections,
    durationS: round(elapsedS, 2),
    requestsPerSecond: round(created / elapsedS, 1),
    created,
    otherStatuses,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyMs: summarize(latencies),
  };
}

/** One request, for the set-up (creating timelines). */
export async function putJson(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...runCredentials.authorization },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: response.status, text: await response.text() };
}
