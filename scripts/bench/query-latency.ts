/**
 * Query latency on a read model of one million events across a few hundred
 * timelines, generated in SQL (read-model.ts). Requests are sequential (light
 * load) through HTTP against the running api.
 */
import type { Pool } from 'pg';
import { generateReadModel } from './read-model';
import { summarize, type LatencySummary } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface QueryLatencyResult {
  events: number;
  timelines: number;
  revisedShare: number;
  loadSeconds: number;
  queries: { name: string; path: string; latencyMs: LatencySummary }[];
}

async function timeRequests(baseUrl: string, path: string, warmup: number, count: number): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let n = 0; n < warmup + count; n++) {
    const started = process.hrtime.bigint();
    const response = await fetch(`${baseUrl}${path}`, { headers: runCredentials.authorization });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
    if (n >= warmup) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return summarize(samples);
}

/** Follows `nextCursor` `pages` times and returns the path of the page reached. */
async function deepPagePath(baseUrl: string, path: string, pages: number): Promise<string> {
  let cursor = '';
  for (let n = 0; n < pages; n++) {
    const page = (await (await fetch(`${baseUrl}${path}${cursor ? `&cursor=${cursor}` : ''}`, { headers: runCredentials.authorization })).json()) as {
      nextCursor: string;
    };
    cursor = page.nextCursor;
  }
  return `${path}&cursor=${cursor}`;
}

/** The query shapes the bench times, by name and path (the deep page's cursor is read by following 40 pages). */
export async function queryShapes(baseUrl: string, knownAtMiddle: string): Promise<{ name: string; path: string }[]> {
  const timeline = `/v1/timelines/bench-q-17/events`;
  return [
    { name: 'first page of a timeline', path: `${timeline}?limit=50` },
    { name: 'deep cursor page (page 41)', path: await deepPagePath(baseUrl, `${timeline}?limit=50`, 40) },
    { name: 'knownAt, 180 days ago', path: `${timeline}?limit=50&knownAt=${knownAtMiddle}` },
    { name: 'q search in a timeline', path: `${timeline}?limit=20&q=collegamento` },
    { name: 'actor filter, all timelines', path: `/v1/events?limit=50&actor=actor-42` },
    { name: 'actor + knownAt, all timelines', path: `/v1/events?limit=50&actor=actor-42&knownAt=${knownAtMiddle}` },
  ];
}

export async function measureQueryLatency(
  baseUrl: string,
  pool: Pool,
  options = { events: 1_000_000, timelines: 300, requests: 300 },
): Promise<QueryLatencyResult> {
  const load = await generateReadModel(pool, options.events, options.timelines);
  const measured = [];
  for (const query of await queryShapes(baseUrl, load.knownAtMiddle)) {
    measured.push({ ...query, latencyMs: await timeRequests(baseUrl, query.path, 30, options.requests) });
  }
  return { events: options.events, timelines: options.timelines, revisedShare: 0.1, loadSeconds: Math.round(load.seconds), queries: measured };
}
