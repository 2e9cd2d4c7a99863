/**
 * The promtool unit tests of the rules (observability/prometheus/timeline-rules.test.yml, written by
 * `npm run observability`): for every alert one case that makes it fire, with the summary it must render, and
 * one that keeps it quiet. Series use promtool's notation: `a+bxn` is a, a+b, … n+1 samples a minute apart; `stale`
 * ends a series as a target's gauge does when its label set goes away.
 */
import { alertingRules, API_JOB, PROJECTOR_JOB } from './alert-rules';

const API = `job="${API_JOB}",instance="api-1:3000"`;
const PROJECTOR = `job="${PROJECTOR_JOB}",instance="projector-1:3001"`;
const WRITE_ROUTE = `method="POST",route="/v1/timelines/:timelineId/events"`;
const READ_ROUTE = `method="GET",route="/v1/timelines/:timelineId/events"`;

type Series = Record<string, string>;

interface AlertCase {
  alert: string;
  /** Input series that make it fire at `at`, the labels it fires with and the summary it renders. */
  fires: { series: Series; at: string; labels: Record<string, string>; summary: string };
  /** Input series that keep it quiet at `at`: why, in the name of the case. */
  quiet: { why: string; series: Series; at: string };
}

/** Errors of writes: a ratio of requests answered without a 5xx per request received, over 70 minutes or more. */
const writes = (minutes: number, receivedPerMinute: number, okPerMinute: number): Series => ({
  [`timeline_http_requests_received_total{${API},${WRITE_ROUTE}}`]: `0+${receivedPerMinute}x${minutes}`,
  [`timeline_http_request_duration_seconds_count{${API},${WRITE_ROUTE},status_class="2xx"}`]: `0+${okPerMinute}x${minutes}`,
  [`timeline_http_request_duration_seconds_count{${API},${WRITE_ROUTE},status_class="5xx"}`]: `0+${receivedPerMinute - okPerMinute}x${minutes}`,
});
/** Latency of reads: answered per minute, and of them within 0.25 s. */
const reads = (minutes: number, perMinute: number, fastPerMinute: number): Series => ({
  [`timeline_http_request_duration_seconds_count{${API},${READ_ROUTE},status_class="2xx"}`]: `0+${perMinute}x${minutes}`,
  [`timeline_http_request_duration_seconds_bucket{${API},${READ_ROUTE},status_class="2xx",le="0.25"}`]: `0+${fastPerMinute}x${minutes}`,
});
/** 5000, with a 0 every six minutes: never over the threshold for a whole 10-minute window. */
const CATCHES_UP = '5000+0x5 0 5000+0x5 0 5000+0x5 0 5000+0x5';

export const ALERT_CASES: AlertCase[] = [
  {
    alert: 'TimelinePartitionStuck',
    fires: {
      series: { [`timeline_projector_partition_stuck_seconds{${PROJECTOR},partition="3",failure_class="database"}`]: '0+60x10' },
      at: '5m',
      labels: { severity: 'critical', partition: '3', failure_class: 'database' },
      summary: 'Partition 3 of timeline.commands has failed (database) for 5m 0s: nothing on it is decided',
    },
    quiet: {
      why: 'it failed for a minute and moved again',
      series: { [`timeline_projector_partition_stuck_seconds{${PROJECTOR},partition="3",failure_class="connection"}`]: '0 60 stale' },
      at: '5m',
    },
  },
  {
    alert: 'TimelinePartitionNotProgressing',
    fires: {
      series: {
        [`timeline_projection_lag_records{${PROJECTOR},partition="1"}`]: '50+0x30',
        [`timeline_projection_next_offset{${PROJECTOR},partition="1"}`]: '100+0x30',
      },
      at: '20m',
      labels: { severity: 'critical', partition: '1' },
      summary: 'Partition 1 of timeline.commands has had 50 records waiting for 15 minutes, and none was decided',
    },
    quiet: {
      why: 'partition 1 moves while records wait, and partition 2, which does not, is failing (the stuck alert speaks for it)',
      series: {
        [`timeline_projection_lag_records{${PROJECTOR},partition="1"}`]: '50+0x30',
        [`timeline_projection_next_offset{${PROJECTOR},partition="1"}`]: '100+10x30',
        [`timeline_projection_lag_records{${PROJECTOR},partition="2"}`]: '50+0x30',
        [`timeline_projection_next_offset{${PROJECTOR},partition="2"}`]: '100+0x30',
        [`timeline_projector_partition_stuck_seconds{${PROJECTOR},partition="2",failure_class="database"}`]: '1+60x30',
      },
      at: '20m',
    },
  },
  {
    alert: 'TimelineProjectionLagRecords',
    fires: {
      series: { [`timeline_projection_lag_records{${PROJECTOR},partition="0"}`]: '5000+0x30' },
      at: '20m',
      labels: { severity: 'warning', partition: '0' },
      summary: 'Partition 0 has stayed over 1000 records behind for 15 minutes (now at least 5000)',
    },
    quiet: { why: 'it catches up now and then', series: { [`timeline_projection_lag_records{${PROJECTOR},partition="0"}`]: CATCHES_UP }, at: '20m' },
  },
  {
    alert: 'TimelineProjectionLagSeconds',
    fires: {
      series: { [`timeline_projection_lag_seconds{${PROJECTOR},partition="0"}`]: '120+60x30' },
      at: '20m',
      labels: { severity: 'warning', partition: '0' },
      summary: 'Partition 0 has stayed over a minute behind for 15 minutes (at least 12m 0s)',
    },
    quiet: { why: 'it stays within a minute', series: { [`timeline_projection_lag_seconds{${PROJECTOR},partition="0"}`]: '30+0x30' }, at: '20m' },
  },
  {
    alert: 'TimelineRelayBacklog',
    fires: {
      series: { [`timeline_relay_lag_records{${PROJECTOR}}`]: '5000+0x30' },
      at: '20m',
      labels: { severity: 'warning' },
      summary: 'The relay has stayed over 1000 accepted changes behind timeline.events for 15 minutes (at least 5000)',
    },
    quiet: { why: 'it catches up now and then', series: { [`timeline_relay_lag_records{${PROJECTOR}}`]: CATCHES_UP }, at: '20m' },
  },
  {
    alert: 'TimelineRelayOldestUnsent',
    fires: {
      series: { [`timeline_relay_lag_seconds{${PROJECTOR}}`]: '0+60x20' },
      at: '10m',
      labels: { severity: 'critical' },
      summary: 'The oldest accepted change not yet published to timeline.events is 10m 0s old',
    },
    quiet: { why: 'changes wait half a minute at most', series: { [`timeline_relay_lag_seconds{${PROJECTOR}}`]: '30+0x20' }, at: '10m' },
  },
  {
    alert: 'TimelineLoadShedding',
    fires: {
      series: {
        [`timeline_api_requests_limited_total{${API},limit="event_loop_delay"}`]: '0+60x20',
        [`timeline_api_commands_refused_total{${API},reason="waiting_decisions"}`]: '0+0x20',
        [`timeline_http_requests_received_total{${API},${WRITE_ROUTE}}`]: '0+600x20',
      },
      at: '15m',
      labels: { severity: 'warning', instance: 'api-1:3000' },
      summary: 'The api at api-1:3000 answers 10% of its requests 503 (load shed or overloaded)',
    },
    quiet: {
      why: 'one request in a hundred is shed',
      series: {
        [`timeline_api_requests_limited_total{${API},limit="event_loop_delay"}`]: '0+6x20',
        [`timeline_api_commands_refused_total{${API},reason="waiting_decisions"}`]: '0+0x20',
        [`timeline_http_requests_received_total{${API},${WRITE_ROUTE}}`]: '0+600x20',
      },
      at: '15m',
    },
  },
  {
    alert: 'TimelineDecisionsNotInTime',
    fires: {
      series: {
        [`timeline_api_commands_answered_total{${API},command_type="RecordEvent",outcome="accepted",status_class="2xx"}`]: '0+540x30',
        [`timeline_api_commands_answered_total{${API},command_type="RecordEvent",outcome="pending",status_class="2xx"}`]: '0+60x30',
      },
      at: '20m',
      labels: { severity: 'warning' },
      summary: '10% of writes are answered 202: their decision did not come in time',
    },
    quiet: {
      why: 'one write in a hundred is answered 202',
      series: {
        [`timeline_api_commands_answered_total{${API},command_type="RecordEvent",outcome="accepted",status_class="2xx"}`]: '0+594x30',
        [`timeline_api_commands_answered_total{${API},command_type="RecordEvent",outcome="pending",status_class="2xx"}`]: '0+6x30',
      },
      at: '20m',
    },
  },
  {
    alert: 'TimelineNotReady',
    fires: {
      series: { [`timeline_ready{${PROJECTOR}}`]: '0+0x10' },
      at: '6m',
      labels: { severity: 'critical', job: PROJECTOR_JOB, instance: 'projector-1:3001' },
      summary: 'timeline-projector at projector-1:3001 has not been ready for 5 minutes',
    },
    quiet: { why: 'it was not ready for two minutes, then was', series: { [`timeline_ready{${PROJECTOR}}`]: '0 0 1+0x8' }, at: '6m' },
  },
  {
    alert: 'TimelineTargetDown',
    fires: {
      series: { [`up{${API}}`]: '0+0x5' },
      at: '3m',
      labels: { severity: 'critical', job: API_JOB, instance: 'api-1:3000' },
      summary: 'timeline-api at api-1:3000 does not answer scrapes',
    },
    quiet: { why: 'it answers', series: { [`up{${API}}`]: '1+0x5' }, at: '3m' },
  },
  {
    alert: 'TimelineTargetMissing',
    fires: {
      series: { [`up{${PROJECTOR}}`]: '1+0x10' },
      at: '6m',
      labels: { severity: 'critical', job: API_JOB },
      summary: 'Prometheus has no timeline-api target to scrape',
    },
    quiet: { why: 'both jobs have a target', series: { [`up{${PROJECTOR}}`]: '1+0x10', [`up{${API}}`]: '0+0x10' }, at: '6m' },
  },
  {
    alert: 'TimelineEventLoopDelay',
    fires: {
      series: { [`nodejs_eventloop_lag_p99_seconds{${API}}`]: '0.5+0x15' },
      at: '12m',
      labels: { severity: 'warning', job: API_JOB, instance: 'api-1:3000' },
      summary: 'The event loop of timeline-api at api-1:3000 runs 500ms late (p99)',
    },
    quiet: { why: 'it runs 50 ms late', series: { [`nodejs_eventloop_lag_p99_seconds{${API}}`]: '0.05+0x15' }, at: '12m' },
  },
  {
    alert: 'TimelineDatabasePoolSaturated',
    fires: {
      series: {
        [`timeline_postgres_pool_waiting_clients{${API}}`]: '3+0x15',
        [`timeline_postgres_pool_connections{${API}}`]: '10+0x15',
        [`timeline_postgres_pool_max_connections{${API}}`]: '10+0x15',
      },
      at: '12m',
      labels: { severity: 'warning', job: API_JOB, instance: 'api-1:3000' },
      summary: 'Queries of timeline-api at api-1:3000 have waited for a PostgreSQL connection for 10 minutes (3 waiting)',
    },
    quiet: {
      why: 'every connection is busy, but queries wait only now and then',
      series: {
        [`timeline_postgres_pool_waiting_clients{${API}}`]: '3 0 3 3 0 3 3 0 3 3 0 3 3 0 3 3',
        [`timeline_postgres_pool_connections{${API}}`]: '10+0x15',
        [`timeline_postgres_pool_max_connections{${API}}`]: '10+0x15',
      },
      at: '12m',
    },
  },
  {
    alert: 'TimelineKafkaProduceFailures',
    fires: {
      series: { [`timeline_api_commands_answered_total{${API},command_type="RecordEvent",outcome="append_failed",status_class="5xx"}`]: '0+2x10' },
      at: '5m',
      labels: { severity: 'critical', instance: 'api-1:3000' },
      summary: 'The api at api-1:3000 could not append 10 writes to timeline.commands in 5 minutes',
    },
    quiet: {
      why: 'no append failed',
      series: { [`timeline_api_commands_answered_total{${API},command_type="RecordEvent",outcome="append_failed",status_class="5xx"}`]: '0+0x10' },
      at: '5m',
    },
  },
  {
    alert: 'TimelineUnauthorizedBurst',
    fires: {
      series: { [`timeline_http_unauthorized_requests_total{${API}}`]: '0+60x10' },
      at: '5m',
      labels: { severity: 'warning', job: API_JOB, instance: 'api-1:3000' },
      summary: 'timeline-api at api-1:3000 answered 300 requests 401 in 5 minutes',
    },
    quiet: { why: 'a few 401s: a client whose token expired', series: { [`timeline_http_unauthorized_requests_total{${API}}`]: '0+5x10' }, at: '5m' },
  },
  {
    alert: 'TimelineErrorBudgetBurnFast',
    fires: {
      series: writes(70, 600, 570),
      at: '65m',
      labels: { severity: 'critical', operation: 'write' },
      summary: 'writes fail (5xx or no answer) at 5% over 1h: 14.4x the error budget',
    },
    quiet: {
      why: '4% failed over the hour, but none in the last 10 minutes',
      series: {
        [`timeline_http_requests_received_total{${API},${WRITE_ROUTE}}`]: '0+600x70',
        [`timeline_http_request_duration_seconds_count{${API},${WRITE_ROUTE},status_class="2xx"}`]: '0+570x60 34800+600x9',
        [`timeline_http_request_duration_seconds_count{${API},${WRITE_ROUTE},status_class="5xx"}`]: '0+30x60 1800+0x9',
      },
      at: '70m',
    },
  },
  {
    alert: 'TimelineErrorBudgetBurnSlow',
    fires: {
      series: writes(400, 600, 594),
      at: '390m',
      labels: { severity: 'warning', operation: 'write' },
      summary: 'writes fail (5xx or no answer) at 1% over 6h: 6x the error budget',
    },
    quiet: { why: 'half a percent fail: within 6x the budget', series: writes(400, 600, 597), at: '390m' },
  },
  {
    alert: 'TimelineLatencyBudgetBurnFast',
    fires: {
      series: reads(70, 600, 480),
      at: '65m',
      labels: { severity: 'critical', operation: 'read' },
      summary: '20% of reads over 1h took longer than their threshold: 14.4x the latency budget',
    },
    quiet: { why: 'one read in a hundred is slow', series: reads(70, 600, 594), at: '65m' },
  },
  {
    alert: 'TimelineLatencyBudgetBurnSlow',
    fires: {
      series: reads(400, 600, 540),
      at: '390m',
      labels: { severity: 'warning', operation: 'read' },
      summary: '10% of reads over 6h took longer than their threshold: 6x the latency budget',
    },
    quiet: { why: 'three reads in a hundred are slow: within 6x the budget', series: reads(400, 600, 582), at: '390m' },
  },
];

const inputSeries = (series: Series) => Object.entries(series).map(([name, values]) => ({ series: name, values }));

/** The test file's content: one test group per case, so no case's series leak into another. */
export function alertRuleTests(rulesFile: string): Record<string, unknown> {
  const rules = new Map(alertingRules().map((rule) => [rule.alert, rule]));
  return {
    rule_files: [rulesFile],
    evaluation_interval: '1m',
    tests: ALERT_CASES.flatMap(({ alert, fires, quiet }) => {
      const rule = rules.get(alert);
      if (!rule) throw new Error(`no alert named ${alert}`);
      return [
        {
          name: `${alert} fires`,
          interval: '1m',
          input_series: inputSeries(fires.series),
          alert_rule_test: [
            {
              alertname: alert,
              eval_time: fires.at,
              exp_alerts: [
                {
                  exp_labels: fires.labels,
                  exp_annotations: { summary: fires.summary, description: rule.annotations.description, runbook_url: rule.annotations.runbook_url },
                },
              ],
            },
          ],
        },
        {
          name: `${alert} stays quiet: ${quiet.why}`,
          interval: '1m',
          input_series: inputSeries(quiet.series),
          alert_rule_test: [{ alertname: alert, eval_time: quiet.at }],
        },
      ];
    }),
  };
}
