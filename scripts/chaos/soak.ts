/**
 * `npm run soak`: SOAK_MINUTES (default 30) of writes at half the measured capacity.
 *
 *   1. capacity: a short closed-loop burst (autocannon, as the bench) of single-event appends;
 *   2. then a fixed open-model rate of half that (SOAK_RATE overrides) with the chaos write load
 *      (Idempotency-Key, some revisions), for SOAK_MINUTES;
 *   3. every SOAK_SAMPLE_MS (a minute) the RSS of the api and the projector (/proc) and their
 *      event-loop delay (prom-client's nodejs_eventloop_lag_*, reset at each scrape, so per minute),
 *      with the minute's answers;
 *   4. a trend line per process (first vs last minute, least-squares slope) and a verdict; then the
 *      chaos audit (nothing acknowledged lost, read models equal a replay).
 *
 * Stops by itself: the load ends after SOAK_MINUTES, and the whole run is bounded.
 */
import 'reflect-metadata';
import { readMemory } from '@timeline/dev-stack';
import { EVENT_BODY } from '../bench/replay';
import { measureAppends } from '../bench/http-load';
import { table } from '../bench/stats';
import { audit } from './audit';
import { createTimelines, Lab, type Deployment } from './lab';
import { chaosSettings, seededRandom } from './settings';
import { isSuccess, WriteLoad } from './write-load';
import { runCredentials } from '../auth/run-credentials';

const env = process.env;
const minutes = Number(env.SOAK_MINUTES ?? 30);
const sampleMs = Number(env.SOAK_SAMPLE_MS ?? 60_000);
const burstSeconds = Number(env.SOAK_BURST_SECONDS ?? 10);
const burstConnections = Number(env.SOAK_BURST_CONNECTIONS ?? 32);
/** Verdict bounds: RSS growth per minute after the first, and the event-loop delay p99 of the last minute. */
const maxSlopeMiBPerMinute = Number(env.SOAK_MAX_RSS_SLOPE_MIB_PER_MIN ?? 1);
const maxLagP99Ms = Number(env.SOAK_MAX_LAG_P99_MS ?? 100);
const settings = chaosSettings(env, { scale: 'full', entry: 'dist' });
const startedAt = Date.now();
const lab = new Lab(settings, (message) => console.error(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(7)}s] ${message}`));
const overallMs = (minutes + 15) * 60_000;

interface ProcessSample {
  rssMiB: number;
  lagMeanMs: number;
  lagP99Ms: number;
  lagMaxMs: number;
  /** Counters since the process started (per-minute figures are differences of two samples). */
  gcSeconds: number;
  /** Requests the api shed on event-loop delay (SHED_*), and writes refused by admission (both answered 503). */
  shedTotal: number;
  refusedTotal: number;
}

interface Sample {
  minute: number;
  api: ProcessSample;
  projector: ProcessSample;
  acked: number;
  /** Ticks of the offered rate that found maxInFlight answers outstanding: that load was not sent. */
  notSent: number;
  accepted202: number;
  unavailable503: number;
  /** Of the minute's 503s: requests the api shed on event-loop delay, writes refused by admission (its counters). */
  shed: number;
  refused: number;
  other: number;
  p99Ms: number;
  /** Time in garbage collection during the minute. */
  apiGcMs: number;
  projectorGcMs: number;
}

async function sampleProcess(pid: number, url: string): Promise<ProcessSample> {
  const rssMiB = (readMemory(pid)?.rssKb ?? NaN) / 1024;
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000), headers: runCredentials.authorization })
    .then((response) => response.text())
    .catch(() => '');
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  /** Sum of every series of a counter whose labels contain `labels` (0 when there is none yet). */
  const total = (name: string, labels = '') =>
    [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? ([0-9.eE+-]+)$`, 'gm'))]
      .filter((match) => (match[1] ?? '').includes(labels))
      .reduce((sum, match) => sum + Number(match[2]), 0);
  return {
    rssMiB,
    lagMeanMs: gauge('nodejs_eventloop_lag_mean_seconds'),
    lagP99Ms: gauge('nodejs_eventloop_lag_p99_seconds'),
    lagMaxMs: gauge('nodejs_eventloop_lag_max_seconds'),
    gcSeconds: total('nodejs_gc_duration_seconds_sum'),
    shedTotal: total('timeline_api_requests_limited_total', 'limit="event_loop_'),
    refusedTotal: total('timeline_api_commands_refused_total'),
  };
}

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const num = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const den = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return num / den;
}

async function main(): Promise<number> {
  await lab.start();
  const deployment = await lab.deploy({ name: 'soak', brokers: [lab.broker!.bootstrap], apis: 1, projectors: 1, partitions: 3 });
  try {
    return await soak(deployment);
  } finally {
    await deployment.stop();
  }
}

async function soak(deployment: Deployment): Promise<number> {
  const [api] = deployment.apis;
  const [projector] = deployment.projectors;
  const timelineIds = Array.from({ length: settings.timelines }, (_, index) => `soak-${index + 1}`);
  await createTimelines(api.url, timelineIds);

  lab.log(`soak: measuring capacity, ${burstConnections} connections, closed loop, 2 s warm-up + ${burstSeconds} s`);
  const burst = await measureAppends({
    baseUrl: api.url,
    connections: burstConnections,
    warmupS: 2,
    durationS: burstSeconds,
    paths: timelineIds.map((id) => `/v1/timelines/${id}/events`),
    body: JSON.stringify(EVENT_BODY),
  });
  const rate = Number(env.SOAK_RATE ?? Math.max(1, Math.floor(burst.requestsPerSecond / 2)));
  lab.log(`soak: capacity ${burst.requestsPerSecond} appends/s (p99 ${burst.latencyMs.p99} ms); offering ${rate} writes/s for ${minutes} min`);

  const load = new WriteLoad({
    apiUrls: [api.url],
    timelineIds,
    ratePerSecond: rate,
    reviseRatio: settings.reviseRatio,
    maxInFlight: settings.maxInFlight,
    retries: settings.retries,
    requestTimeoutMs: settings.requestTimeoutMs,
    random: seededRandom(settings.seed),
  });
  // A scrape before the load resets the event-loop histograms, so the first minute is the load's own.
  let [previousApi, previousProjector] = await Promise.all([sampleProcess(api.pid, api.url), sampleProcess(projector.pid, projector.url)]);
  const loadStartedAt = Date.now();
  load.start();
  const samples: Sample[] = [];
  const headers = [
    'minute',
    'api RSS MiB',
    'api lag p99 ms',
    'api lag max ms',
    'proj. RSS MiB',
    'proj. lag p99 ms',
    'proj. lag max ms',
    'acked',
    'not sent',
    '202',
    '503',
    'shed',
    'refused',
    'other',
    'p99 answer ms',
    'api GC ms',
    'proj. GC ms',
  ];
  const row = (sample: Sample) => [
    sample.minute,
    sample.api.rssMiB.toFixed(1),
    sample.api.lagP99Ms.toFixed(1),
    sample.api.lagMaxMs.toFixed(1),
    sample.projector.rssMiB.toFixed(1),
    sample.projector.lagP99Ms.toFixed(1),
    sample.projector.lagMaxMs.toFixed(1),
    sample.acked,
    sample.notSent,
    sample.accepted202,
    sample.unavailable503,
    sample.shed,
    sample.refused,
    sample.other,
    sample.p99Ms,
    sample.apiGcMs.toFixed(0),
    sample.projectorGcMs.toFixed(0),
  ];
  let windowStart = loadStartedAt;
  let previousSkipped = 0;
  const total = Math.max(1, Math.round((minutes * 60_000) / sampleMs));
  for (let minute = 1; minute <= total; minute++) {
    await new Promise((resolve) => setTimeout(resolve, loadStartedAt + minute * sampleMs - Date.now()));
    const windowEnd = Date.now();
    const answered = load.attempts.filter((attempt) => attempt.finishedAt !== null && attempt.finishedAt >= windowStart && attempt.finishedAt < windowEnd);
    const latencies = answered
      .filter((attempt) => isSuccess(attempt.status))
      .map((attempt) => attempt.finishedAt! - attempt.startedAt)
      .sort((a, b) => a - b);
    const [apiSample, projectorSample] = await Promise.all([sampleProcess(api.pid, api.url), sampleProcess(projector.pid, projector.url)]);
    const sample: Sample = {
      minute,
      api: apiSample,
      projector: projectorSample,
      acked: latencies.length,
      notSent: load.skipped - previousSkipped,
      accepted202: answered.filter((attempt) => attempt.status === 202).length,
      unavailable503: answered.filter((attempt) => attempt.status === 503).length,
      shed: apiSample.shedTotal - previousApi.shedTotal,
      refused: apiSample.refusedTotal - previousApi.refusedTotal,
      other: answered.filter((attempt) => !isSuccess(attempt.status) && attempt.status !== 202 && attempt.status !== 503).length,
      p99Ms: latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil(0.99 * latencies.length) - 1)] : NaN,
      apiGcMs: (apiSample.gcSeconds - previousApi.gcSeconds) * 1000,
      projectorGcMs: (projectorSample.gcSeconds - previousProjector.gcSeconds) * 1000,
    };
    [previousApi, previousProjector] = [apiSample, projectorSample];
    previousSkipped = load.skipped;
    samples.push(sample);
    windowStart = windowEnd;
    console.log(
      table(headers, [row(sample)])
        .split('\n')
        .slice(minute === 1 ? 0 : 2)
        .join('\n'),
    );
    if (api.exited || projector.exited) {
      lab.log(`soak: ${api.exited ? 'api' : 'projector'} exited; stopping`);
      break;
    }
  }
  await load.stop();
  lab.log(`soak: load stopped (${load.writes.length} writes); auditing`);
  const audited = await audit(deployment, load.writes, settings.settleTimeoutMs);

  // Trend: the first minute holds start-up growth (JIT, heap sizing), so the slope starts at the second when there are enough.
  const trendFrom = samples.length >= 4 ? 1 : 0;
  // Samples are a minute apart unless SOAK_SAMPLE_MS says otherwise; slopes are per minute either way.
  const minutesAt = (sample: Sample) => (sample.minute * sampleMs) / 60_000;
  const verdicts: string[] = [];
  const trend = (name: 'api' | 'projector') => {
    const first = samples[0][name];
    const last = samples[samples.length - 1][name];
    const rssSlope = slope(samples.slice(trendFrom).map((sample) => [minutesAt(sample), sample[name].rssMiB]));
    const lagSlope = slope(samples.slice(trendFrom).map((sample) => [minutesAt(sample), sample[name].lagP99Ms]));
    if (rssSlope > maxSlopeMiBPerMinute) verdicts.push(`${name} RSS grows ${rssSlope.toFixed(2)} MiB/min (bound ${maxSlopeMiBPerMinute})`);
    if (last.lagP99Ms > maxLagP99Ms) verdicts.push(`${name} event-loop delay p99 ${last.lagP99Ms.toFixed(1)} ms in the last minute (bound ${maxLagP99Ms})`);
    return [
      name,
      `${first.rssMiB.toFixed(1)} -> ${last.rssMiB.toFixed(1)}`,
      Number.isFinite(rssSlope) ? rssSlope.toFixed(2) : 'n/a',
      `${first.lagP99Ms.toFixed(1)} -> ${last.lagP99Ms.toFixed(1)}`,
      Number.isFinite(lagSlope) ? lagSlope.toFixed(2) : 'n/a',
    ];
  };
  const trends = [trend('api'), trend('projector')];
  if (samples.length < total) verdicts.push(`stopped after ${samples.length} of ${total} minutes`);
  const lost = audited.lostAcknowledged + audited.lostPending;
  if (lost > 0) verdicts.push(`${lost} acknowledged writes lost`);
  if (audited.replayEqual !== true) verdicts.push(`read models differ from a clean replay: ${audited.replayNote}`);
  const answers = load.attempts.length;
  const failed = load.attempts.filter((attempt) => !isSuccess(attempt.status) && attempt.status !== 202).length;
  if (failed > 0) verdicts.push(`${failed} of ${answers} answers neither 201/200 nor 202`);

  console.log('');
  console.log(
    `Soak: ${((samples.length * sampleMs) / 60_000).toFixed(1)} min (${samples.length} samples) at ${rate} writes/s offered (half of the measured ${burst.requestsPerSecond}/s), ${load.writes.length} writes, ${audited.acknowledged} acknowledged, ${audited.found} found, ${lost} lost; ${load.skipped} offered writes not sent (maxInFlight ${settings.maxInFlight} answers outstanding)`,
  );
  console.log(`Trend (least-squares slope per minute over samples ${trendFrom + 1}..${samples.length}; "minute" = sample, every ${sampleMs / 1000} s):`);
  console.log(table(['process', 'RSS MiB first -> last', 'RSS MiB/min', 'lag p99 ms first -> last', 'lag p99 ms/min'], trends));
  // The services' logs say what the table cannot (which request failed how); kept when the verdict fails.
  if (verdicts.length > 0) lab.keepLogs = true;
  console.log(verdicts.length === 0 ? 'Verdict: stable (memory flat, event loop responsive, nothing lost)' : `Verdict: NOT stable: ${verdicts.join('; ')}`);
  return verdicts.length === 0 ? 0 : 1;
}

lab.runToExit('soak', overallMs, main);
