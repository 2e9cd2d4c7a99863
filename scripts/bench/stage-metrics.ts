/**
 * Where one append's time goes, from the product's own histograms: the api's
 * `timeline_api_append_stage_seconds{stage}` and the projector's `timeline_projector_stage_seconds{stage}`.
 * Scraped before and after a measured window; each stage's mean over the window is delta sum / delta count.
 */
import { round } from './stats';
import { runCredentials } from '../auth/run-credentials';

export const API_STAGES = ['queued', 'produced', 'notified', 'decision_read'] as const;
export const PROJECTOR_STAGES = ['fetch', 'transaction'] as const;
const API_METRIC = 'timeline_api_append_stage_seconds';
const PROJECTOR_METRIC = 'timeline_projector_stage_seconds';

/** Sum and count of each stage's histogram at one moment. */
type StageTotals = Map<string, { sum: number; count: number }>;

export interface StageSnapshot {
  api: StageTotals | null;
  projector: StageTotals | null;
}

/** Mean milliseconds per stage over a window; null where the metric is missing or saw nothing. */
export type StageMeans = Record<string, number | null>;

export async function scrapeStages(apiUrl: string, projectorUrl: string): Promise<StageSnapshot> {
  const [api, projector] = await Promise.all([scrape(apiUrl, API_METRIC), scrape(projectorUrl, PROJECTOR_METRIC)]);
  return { api, projector };
}

export function stageMeans(before: StageSnapshot, after: StageSnapshot): StageMeans {
  const means: StageMeans = {};
  const fill = (prefix: string, stages: readonly string[], from: StageTotals | null, to: StageTotals | null) => {
    for (const stage of stages) {
      const start = from?.get(stage) ?? { sum: 0, count: 0 };
      const end = to?.get(stage);
      const count = end ? end.count - start.count : 0;
      means[`${prefix} ${stage}`] = end && count > 0 ? round(((end.sum - start.sum) / count) * 1000, 2) : null;
    }
  };
  fill('api', API_STAGES, before.api, after.api);
  fill('projector', PROJECTOR_STAGES, before.projector, after.projector);
  return means;
}

/** The Prometheus text of `GET /metrics`, reduced to `<metric>_sum` and `_count` by stage; null if absent. */
async function scrape(baseUrl: string, metric: string): Promise<StageTotals | null> {
  const answer = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000), headers: runCredentials.authorization }).catch(() => null);
  if (!answer?.ok) return null;
  const totals: StageTotals = new Map();
  const line = new RegExp(`^${metric}_(sum|count)\\{[^}]*stage="([^"]+)"[^}]*\\}\\s+(\\S+)`);
  for (const text of (await answer.text()).split('\n')) {
    const match = line.exec(text);
    if (!match) continue;
    const [, kind, stage, value] = match;
    const entry = totals.get(stage) ?? { sum: 0, count: 0 };
    entry[kind as 'sum' | 'count'] += Number(value);
    totals.set(stage, entry);
  }
  return totals.size > 0 ? totals : null;
}
