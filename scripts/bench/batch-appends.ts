/**
 * Batch appends: `POST /v1/timelines/{id}/events:batch` with `{"events": [...]}`, closed loop, a few callers.
 * The answer is 200 `{"results": [...]}` with one result per event, each with its own `status`; events/s counts
 * the results answered 201 (decided and accepted) per second of the measured window.
 */
import { measureClosedLoop, type ClosedLoopResult } from './closed-loop';
import { round } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface BatchAppendSpec {
  baseUrl: string;
  timelineIds: string[];
  eventBody: unknown;
  eventsPerRequest: number;
  callers: number;
  warmupS: number;
  durationS: number;
}

export type BatchAppendResult =
  | { available: false; status: number }
  | {
      available: true;
      eventsPerRequest: number;
      /** Results answered 201, per second. */
      eventsPerSecond: number;
      /** Results by status, over the measured window. */
      resultStatuses: Record<string, number>;
      /** Requests (one per batch): rate and latency. */
      requests: ClosedLoopResult;
    };

export async function measureBatchAppends(spec: BatchAppendSpec): Promise<BatchAppendResult> {
  const body = JSON.stringify({ events: Array.from({ length: spec.eventsPerRequest }, () => spec.eventBody) });
  const post = (timelineId: string) =>
    fetch(`${spec.baseUrl}/v1/timelines/${timelineId}/events:batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...runCredentials.authorization },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  const probe = await post(spec.timelineIds[0]);
  await probe.arrayBuffer();
  if (probe.status !== 200) return { available: false, status: probe.status };

  let resultStatuses: Record<string, number> = {};
  const requests = await measureClosedLoop({
    callers: spec.callers,
    warmupS: spec.warmupS,
    durationS: spec.durationS,
    operation: async (caller, sequence) => {
      const answer = await post(spec.timelineIds[(caller + sequence) % spec.timelineIds.length]);
      if (answer.status !== 200) throw new Error(`events:batch answered ${answer.status}: ${await answer.text()}`);
      const { results } = (await answer.json()) as { results: { status: number }[] };
      for (const { status } of results) resultStatuses[status] = (resultStatuses[status] ?? 0) + 1;
    },
    onMeasuredStart: () => {
      resultStatuses = {};
    },
  });
  return {
    available: true,
    eventsPerRequest: spec.eventsPerRequest,
    eventsPerSecond: round((resultStatuses[201] ?? 0) / requests.durationS, 1),
    resultStatuses,
    requests,
  };
}
