/**
 * The Prometheus rules operators load (observability/prometheus/timeline-rules.yml): recording rules that the
 * dashboard and the alerts share, and the alerts, each with a severity, a summary naming what fails and a
 * runbook in docs/runbooks.md (its heading is the alert's name). `npm run observability` writes the file;
 * observability/prometheus/timeline-rules.test.yml holds the promtool tests (one that fires each alert, one that
 * keeps it quiet).
 */

/** The scrape jobs the rules expect (docs/operations.md, Prometheus and Grafana). */
export const API_JOB = 'timeline-api';
export const PROJECTOR_JOB = 'timeline-projector';
const BOTH_JOBS = `job=~"${API_JOB}|${PROJECTOR_JOB}"`;

/**
 * Where the alerts' runbook links point: the runbooks the api serves (docs/runbooks.md, at /ops/runbooks), at the
 * address `npm start` and `docker compose` give it. Another deployment renders the rules for its own address:
 * `npm run observability -- --runbooks-url https://timeline.example.org/ops/runbooks`.
 */
export const DEFAULT_RUNBOOKS_URL = 'http://127.0.0.1:3000/ops/runbooks';

/** The service level objectives the burn-rate alerts guard (docs/operations.md, Service level objectives). */
export const SLO = {
  /** Of writes and of reads, this fraction is answered, and not with a 5xx. */
  answered: 0.999,
  /** Of writes and of reads answered without a 5xx, this fraction within the operation's threshold. */
  fast: 0.99,
  /**
   * Latency thresholds, upper bounds of buckets of timeline_http_request_duration_seconds. Both have a fraction
   * part, so the `le` label reads the same in Prometheus 2 and 3 (3 writes `le="1"` as `le="1.0"`).
   */
  writeWithinSeconds: '0.5',
  readWithinSeconds: '0.25',
} as const;

/** Writes and reads of the /v1 API, as the api's HTTP metrics label them; the stream's long-lived requests left out. */
const OPERATIONS = {
  write: { selector: `job="${API_JOB}",method=~"POST|PUT|PATCH|DELETE",route=~"/v1/.+"`, withinSeconds: SLO.writeWithinSeconds },
  read: { selector: `job="${API_JOB}",method="GET",route=~"/v1/.+",route!="/v1/stream"`, withinSeconds: SLO.readWithinSeconds },
} as const;

/** The SRE workbook's multi-window, multi-burn-rate pairs: a long window that says it matters, a short one that says it still burns. */
const BURN_RATES = [
  { speed: 'Fast', factor: 14.4, long: '1h', short: '5m', for: '2m', severity: 'critical' },
  { speed: 'Slow', factor: 6, long: '6h', short: '30m', for: '15m', severity: 'warning' },
] as const;
/** Every window a burn rate reads, shortest first. */
const SLI_WINDOWS = ['5m', '30m', '1h', '6h'];

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export interface AlertingRule {
  alert: string;
  expr: string;
  for: string;
  labels: { severity: 'critical' | 'warning' };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  name: string;
  rules: (RecordingRule | AlertingRule)[];
}

/** Recording rules, by name: the dashboard and the alerts use these names rather than repeat the expressions. */
export const RECORDED = {
  failedRatio: (window: string) => `operation:timeline_http_requests_failed:ratio_rate${window}`,
  slowRatio: (window: string) => `operation:timeline_http_requests_slow:ratio_rate${window}`,
  lagRecords: 'partition:timeline_projection_lag_records:max',
  lagSeconds: 'partition:timeline_projection_lag_seconds:max',
  stuckSeconds: 'partition:timeline_projector_partition_stuck_seconds:max',
  relayRecords: 'timeline_relay_lag_records:max',
  relaySeconds: 'timeline_relay_lag_seconds:max',
  answeredRate: 'outcome:timeline_api_commands_answered:rate5m',
  shedRatio: 'instance:timeline_api_shed_requests:ratio_rate5m',
} as const;

function sliRules(): RecordingRule[] {
  return Object.entries(OPERATIONS).flatMap(([operation, { selector, withinSeconds }]) =>
    SLI_WINDOWS.flatMap((window) => {
      const answeredWithoutError = `sum(rate(timeline_http_request_duration_seconds_count{${selector},status_class!="5xx"}[${window}]))`;
      return [
        {
          // Failed = received − answered without a 5xx: a 5xx, or no answer at all. Requests still in flight at the end of
          // the window count as failed for a moment, and ones received before it as answered: clamped at 0.
          record: RECORDED.failedRatio(window),
          expr: `clamp_min(\n  1 - ${answeredWithoutError}\n    / sum(rate(timeline_http_requests_received_total{${selector}}[${window}])),\n  0\n)`,
          labels: { operation },
        },
        {
          record: RECORDED.slowRatio(window),
          expr:
            `1 - sum(rate(timeline_http_request_duration_seconds_bucket{${selector},status_class!="5xx",le="${withinSeconds}"}[${window}]))\n` +
            `  / ${answeredWithoutError}`,
          labels: { operation },
        },
      ];
    }),
  );
}

function sharedRules(): RecordingRule[] {
  const projector = `job="${PROJECTOR_JOB}"`;
  return [
    // Every projector reports every partition's lag (read from Kafka and PostgreSQL): the largest of their reports.
    { record: RECORDED.lagRecords, expr: `max by (partition) (timeline_projection_lag_records{${projector}})` },
    { record: RECORDED.lagSeconds, expr: `max by (partition) (timeline_projection_lag_seconds{${projector}})` },
    { record: RECORDED.stuckSeconds, expr: `max by (partition, failure_class) (timeline_projector_partition_stuck_seconds{${projector}})` },
    { record: RECORDED.relayRecords, expr: `max(timeline_relay_lag_records{${projector}})` },
    { record: RECORDED.relaySeconds, expr: `max(timeline_relay_lag_seconds{${projector}})` },
    { record: RECORDED.answeredRate, expr: `sum by (outcome) (rate(timeline_api_commands_answered_total{job="${API_JOB}"}[5m]))` },
    {
      // 503s of load shedding (whole requests) and of admission (each command refused `overloaded`), per request received.
      record: RECORDED.shedRatio,
      expr:
        `(\n  sum by (instance) (rate(timeline_api_requests_limited_total{job="${API_JOB}",limit=~"event_loop_delay|event_loop_utilization|stream_clients|stream_catch_ups"}[5m]))\n` +
        `  + sum by (instance) (rate(timeline_api_commands_refused_total{job="${API_JOB}"}[5m]))\n)\n` +
        `/ sum by (instance) (rate(timeline_http_requests_received_total{job="${API_JOB}"}[5m]))`,
    },
  ];
}

type AlertSpec = Omit<AlertingRule, 'annotations' | 'labels'> & {
  severity: AlertingRule['labels']['severity'];
  summary: string;
  description: string;
};

function burnRateAlerts(): AlertSpec[] {
  return BURN_RATES.flatMap(({ speed, factor, long, short, for: forDuration, severity }) => {
    const errorBudget = +(1 - SLO.answered).toFixed(6);
    const latencyBudget = +(1 - SLO.fast).toFixed(6);
    return [
      {
        alert: `TimelineErrorBudgetBurn${speed}`,
        expr: `${RECORDED.failedRatio(long)} > (${factor} * ${errorBudget})\nand\n${RECORDED.failedRatio(short)} > (${factor} * ${errorBudget})`,
        for: forDuration,
        severity,
        summary: `{{ $labels.operation }}s fail (5xx or no answer) at {{ $value | humanizePercentage }} over ${long}: ${factor}x the error budget`,
        description:
          `Over ${long} and over ${short}, more than ${factor} times ${errorBudget * 100}% of the writes or reads (label operation) were answered 5xx or not at all ` +
          `(objective: ${SLO.answered * 100}% answered). At this rate the month's budget is gone in ${+(30 / factor).toFixed(1)} days.`,
      },
      {
        alert: `TimelineLatencyBudgetBurn${speed}`,
        expr: `${RECORDED.slowRatio(long)} > (${factor} * ${latencyBudget})\nand\n${RECORDED.slowRatio(short)} > (${factor} * ${latencyBudget})`,
        for: forDuration,
        severity,
        summary: `{{ $value | humanizePercentage }} of {{ $labels.operation }}s over ${long} took longer than their threshold: ${factor}x the latency budget`,
        description:
          `Over ${long} and over ${short}, more than ${factor} times ${latencyBudget * 100}% of the writes or reads (label operation) answered without a 5xx took ` +
          `longer than ${SLO.writeWithinSeconds} s (writes) or ${SLO.readWithinSeconds} s (reads); objective: ${SLO.fast * 100}% within.`,
      },
    ];
  });
}

function alertSpecs(): AlertSpec[] {
  const projector = `job="${PROJECTOR_JOB}"`;
  return [
    {
      alert: 'TimelinePartitionStuck',
      expr: `${RECORDED.stuckSeconds} > 0`,
      for: '2m',
      severity: 'critical',
      summary:
        'Partition {{ $labels.partition }} of timeline.commands has failed ({{ $labels.failure_class }}) for {{ $value | humanizeDuration }}: nothing on it is decided',
      description:
        "Every transaction of the partition's projector has failed since then; writes to its timelines are answered 202 and wait. " +
        "The projector's /health/ready and the ops page show the last error.",
    },
    {
      alert: 'TimelinePartitionNotProgressing',
      expr:
        `min_over_time(${RECORDED.lagRecords}[10m]) > 0\n` +
        `and on (partition)\nmax by (partition) (changes(timeline_projection_next_offset{${projector}}[10m])) == 0\n` +
        `unless on (partition)\n${RECORDED.stuckSeconds}`,
      for: '5m',
      severity: 'critical',
      summary: 'Partition {{ $labels.partition }} of timeline.commands has had {{ $value }} records waiting for 15 minutes, and none was decided',
      description:
        'Records wait, yet its offset has not moved in 10 minutes, and no projector reports it failing: no projector owns it ' +
        '(a consumer group that does not rebalance, a projector that hangs), or the one that does is not fetching.',
    },
    {
      alert: 'TimelineProjectionLagRecords',
      expr: `min_over_time(${RECORDED.lagRecords}[10m]) > 1000`,
      for: '5m',
      severity: 'warning',
      summary: 'Partition {{ $labels.partition }} has stayed over 1000 records behind for 15 minutes (now at least {{ $value }})',
      description: 'The projection of the partition has not caught up once in 15 minutes: its readers see old timelines, and writes to it wait.',
    },
    {
      alert: 'TimelineProjectionLagSeconds',
      expr: `min_over_time(${RECORDED.lagSeconds}[10m]) > 60`,
      for: '5m',
      severity: 'warning',
      summary: 'Partition {{ $labels.partition }} has stayed over a minute behind for 15 minutes (at least {{ $value | humanizeDuration }})',
      description: 'The last decided record of the partition has been over 60 s old, with records waiting, throughout 15 minutes.',
    },
    {
      alert: 'TimelineRelayBacklog',
      expr: `min_over_time(${RECORDED.relayRecords}[10m]) > 1000`,
      for: '5m',
      severity: 'warning',
      summary: 'The relay has stayed over 1000 accepted changes behind timeline.events for 15 minutes (at least {{ $value }})',
      description: 'Outbox rows wait to be published: subscribers on timeline.events and /v1/stream see changes late.',
    },
    {
      alert: 'TimelineRelayOldestUnsent',
      expr: `${RECORDED.relaySeconds} > 60`,
      for: '5m',
      severity: 'critical',
      summary: 'The oldest accepted change not yet published to timeline.events is {{ $value | humanizeDuration }} old',
      description: 'The relay publishes nothing, or too slowly: no projector holds the relay lease, or Kafka refuses its produce calls.',
    },
    {
      alert: 'TimelineLoadShedding',
      expr: `${RECORDED.shedRatio} > 0.05`,
      for: '5m',
      severity: 'warning',
      summary: 'The api at {{ $labels.instance }} answers {{ $value | humanizePercentage }} of its requests 503 (load shed or overloaded)',
      description: 'Over 5% of requests to the api instance are refused for load (event loop, stream clients, or commands waiting): it needs more capacity.',
    },
    {
      alert: 'TimelineDecisionsNotInTime',
      expr: `sum(${RECORDED.answeredRate}{outcome="pending"}) / sum(${RECORDED.answeredRate}) > 0.05`,
      for: '10m',
      severity: 'warning',
      summary: '{{ $value | humanizePercentage }} of writes are answered 202: their decision did not come in time',
      description: 'Writes are appended, but the projector decides them later than the api waits: callers must poll. Look at lag and stuck partitions.',
    },
    {
      alert: 'TimelineNotReady',
      expr: `timeline_ready{${BOTH_JOBS}} == 0`,
      for: '5m',
      severity: 'critical',
      summary: '{{ $labels.job }} at {{ $labels.instance }} has not been ready for 5 minutes',
      description: 'Its /health/ready answers 503: PostgreSQL, migrations, Kafka, or (projector) lag or a failing partition; the body says which.',
    },
    {
      alert: 'TimelineTargetDown',
      expr: `up{${BOTH_JOBS}} == 0`,
      for: '2m',
      severity: 'critical',
      summary: '{{ $labels.job }} at {{ $labels.instance }} does not answer scrapes',
      description: 'Prometheus cannot read its /metrics: the process is gone, hangs, or refuses the scrape token (401/403).',
    },
    {
      alert: 'TimelineTargetMissing',
      expr: `absent(up{job="${API_JOB}"})\nor\nabsent(up{job="${PROJECTOR_JOB}"})`,
      for: '5m',
      severity: 'critical',
      summary: 'Prometheus has no {{ $labels.job }} target to scrape',
      description: 'The scrape job is missing or discovers no instance: nothing watches that app, so no other alert about it can fire.',
    },
    {
      alert: 'TimelineEventLoopDelay',
      expr: `nodejs_eventloop_lag_p99_seconds{${BOTH_JOBS}} > 0.2`,
      for: '10m',
      severity: 'warning',
      summary: 'The event loop of {{ $labels.job }} at {{ $labels.instance }} runs {{ $value | humanizeDuration }} late (p99)',
      description: 'Every request and batch of the process waits that long before it runs: CPU starved, or a long synchronous task.',
    },
    {
      alert: 'TimelineDatabasePoolSaturated',
      expr:
        `min_over_time(timeline_postgres_pool_waiting_clients{${BOTH_JOBS}}[5m]) > 0\n` +
        `and on (job, instance)\ntimeline_postgres_pool_connections >= timeline_postgres_pool_max_connections`,
      for: '5m',
      severity: 'warning',
      summary: 'Queries of {{ $labels.job }} at {{ $labels.instance }} have waited for a PostgreSQL connection for 10 minutes ({{ $value }} waiting)',
      description: 'All DATABASE_POOL_SIZE connections are in use and queries queue for one at every scrape.',
    },
    {
      alert: 'TimelineKafkaProduceFailures',
      expr: `sum by (instance) (increase(timeline_api_commands_answered_total{job="${API_JOB}",outcome="append_failed"}[5m])) > 0`,
      for: '2m',
      severity: 'critical',
      summary: 'The api at {{ $labels.instance }} could not append {{ $value | humanize }} writes to timeline.commands in 5 minutes',
      description: 'Kafka refused or did not acknowledge (acks=all) produce requests: writes were answered 503 and not recorded.',
    },
    {
      alert: 'TimelineUnauthorizedBurst',
      expr: `sum by (job, instance) (increase(timeline_http_unauthorized_requests_total{${BOTH_JOBS}}[5m])) > 100`,
      for: '1m',
      severity: 'warning',
      summary: '{{ $labels.job }} at {{ $labels.instance }} answered {{ $value | humanize }} requests 401 in 5 minutes',
      description: 'Many requests with no token, an expired one or a forged one: a client whose token expired, or someone probing tokens.',
    },
    ...burnRateAlerts(),
  ];
}

/** The alerts, each with its runbook link at `runbooksUrl#<alert name in lower case>`. */
export function alertingRules(runbooksUrl = DEFAULT_RUNBOOKS_URL): AlertingRule[] {
  return alertSpecs().map(({ alert, expr, for: forDuration, severity, summary, description }) => ({
    alert,
    expr,
    for: forDuration,
    labels: { severity },
    annotations: { summary, description, runbook_url: `${runbooksUrl}#${alert.toLowerCase()}` },
  }));
}

/**
 * One group: Prometheus evaluates the rules of a group in order, at the same time, so an alert reads the recordings
 * of this very evaluation; across groups it would read the last evaluation's or this one's, whichever ran first.
 */
export function ruleGroups(runbooksUrl = DEFAULT_RUNBOOKS_URL): RuleGroup[] {
  return [{ name: 'timeline', rules: [...sliRules(), ...sharedRules(), ...alertingRules(runbooksUrl)] }];
}
