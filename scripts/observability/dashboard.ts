/**
 * The Grafana dashboard operators load (observability/grafana/timeline-dashboard.json), written by
 * `npm run observability`. Panels read the recording rules of alert-rules.ts where an alert reads the same
 * expression, so a panel shows what an alert judged. Every panel has a unit; variables choose the Prometheus
 * data source, the instances and the partitions.
 */
import { API_JOB, PROJECTOR_JOB, RECORDED } from './alert-rules';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const API = `job="${API_JOB}",instance=~"$instance"`;
const PROJECTOR = `job="${PROJECTOR_JOB}",instance=~"$instance"`;
const BOTH = `job=~"${API_JOB}|${PROJECTOR_JOB}",instance=~"$instance"`;
const WRITES = `${API},method=~"POST|PUT|PATCH|DELETE",route=~"/v1/.+"`;
const READS = `${API},method="GET",route=~"/v1/.+",route!="/v1/stream"`;
const PARTITION = `partition=~"$partition"`;
const RATE = '$__rate_interval';

interface Target {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  description: string;
  /** A Grafana unit id (`s`, `percentunit`, `wps`…) or `suffix: <word>`. */
  unit: string;
  targets: Target[];
}

const target = (expr: string, legend: string): Target => ({ expr, legend });
const quantiles = (histogram: string, by: string, selector: string): Target[] =>
  [0.5, 0.99].map((q) => target(`histogram_quantile(${q}, sum by (le, ${by}) (rate(${histogram}_bucket{${selector}}[${RATE}])))`, `p${q * 100} {{${by}}}`));

const ROWS: { title: string; panels: PanelSpec[] }[] = [
  {
    title: 'Requests',
    panels: [
      {
        title: 'Writes per second by answer',
        description: 'Write requests of /v1 by status class, and the writes the api answered by outcome (pending = 202, overloaded = 503).',
        unit: 'wps',
        targets: [
          target(`sum by (status_class) (rate(timeline_http_request_duration_seconds_count{${WRITES}}[${RATE}]))`, '{{status_class}}'),
          target(`sum by (outcome) (rate(timeline_api_commands_answered_total{${API}}[${RATE}]))`, '{{outcome}}'),
        ],
      },
      {
        title: 'Reads per second by answer',
        description: 'GET requests of /v1 (the stream left out) by status class.',
        unit: 'rps',
        targets: [target(`sum by (status_class) (rate(timeline_http_request_duration_seconds_count{${READS}}[${RATE}]))`, '{{status_class}}')],
      },
      {
        title: 'Requests failed (5xx or not answered)',
        description: 'The error SLI of writes and reads over 5 minutes and 1 hour (recording rules); the objective is 99.9% answered.',
        unit: 'percentunit',
        targets: [target(RECORDED.failedRatio('5m'), '{{operation}} 5m'), target(RECORDED.failedRatio('1h'), '{{operation}} 1h')],
      },
      {
        title: 'Requests slower than their threshold',
        description: 'The latency SLI: writes over 0.5 s, reads over 0.25 s, over 5 minutes and 1 hour; the objective is 99% within.',
        unit: 'percentunit',
        targets: [target(RECORDED.slowRatio('5m'), '{{operation}} 5m'), target(RECORDED.slowRatio('1h'), '{{operation}} 1h')],
      },
      {
        title: 'Latency per route',
        description: 'Median and 99th percentile of the time from request to response, per route pattern of /v1.',
        unit: 's',
        targets: quantiles('timeline_http_request_duration_seconds', 'route', `${API},route=~"/v1/.+",route!="/v1/stream"`),
      },
      {
        title: '401 answers per second',
        description: 'Requests without a valid token; a burst is someone probing tokens, or a client whose token expired.',
        unit: 'reqps',
        targets: [target(`sum by (job, instance) (rate(timeline_http_unauthorized_requests_total{${BOTH}}[${RATE}]))`, '{{job}} {{instance}}')],
      },
    ],
  },
  {
    title: 'Write path',
    panels: [
      {
        title: 'Append stages (api)',
        description: 'Median and p99 of each stage of a write decided within its wait: queued, produced, notified, decision_read.',
        unit: 's',
        targets: quantiles('timeline_api_append_stage_seconds', 'stage', API),
      },
      {
        title: 'Projector stages',
        description: 'fetch (Kafka append to the handler receiving its batch) and transaction (begin to commit).',
        unit: 's',
        targets: quantiles('timeline_projector_stage_seconds', 'stage', PROJECTOR),
      },
      {
        title: 'Load shed and overloaded (503)',
        description: '503s for load per request received, per api instance (recording rule of the load-shedding alert).',
        unit: 'percentunit',
        targets: [target(`${RECORDED.shedRatio}{instance=~"$instance"}`, '{{instance}}')],
      },
      {
        title: 'Requests refused by a limit',
        description: 'Per limit: writes and queries (429 rate limits), stream clients and catch-ups, load shedding on the event loop (503).',
        unit: 'reqps',
        targets: [target(`sum by (limit) (rate(timeline_api_requests_limited_total{${API}}[${RATE}]))`, '{{limit}}')],
      },
      {
        title: 'Writes waiting for their decision',
        description: 'Commands each api instance holds (appending or waiting), bounded by ADMISSION_MAX_WAITING.',
        unit: 'suffix: commands',
        targets: [target(`timeline_api_commands_waiting{${API}}`, '{{instance}}')],
      },
      {
        title: 'Decisions per second',
        description: 'Commands decided, by outcome.',
        unit: 'ops',
        targets: [target(`sum by (outcome) (rate(timeline_projector_decisions_total{${PROJECTOR}}[${RATE}]))`, '{{outcome}}')],
      },
    ],
  },
  {
    title: 'Partitions',
    panels: [
      {
        title: 'Projection lag (records)',
        description: 'Records of timeline.commands not yet decided, per partition.',
        unit: 'suffix: records',
        targets: [target(`${RECORDED.lagRecords}{${PARTITION}}`, 'partition {{partition}}')],
      },
      {
        title: 'Projection lag (time)',
        description: 'Per partition, now minus the Kafka time of the last decided record while records wait; 0 when caught up.',
        unit: 's',
        targets: [target(`${RECORDED.lagSeconds}{${PARTITION}}`, 'partition {{partition}}')],
      },
      {
        title: 'Stuck time per partition',
        description: 'Seconds since the partition began to fail without a transaction succeeding, with the failure class; empty while all move.',
        unit: 's',
        targets: [target(`${RECORDED.stuckSeconds}{${PARTITION}}`, 'partition {{partition}} ({{failure_class}})')],
      },
      {
        title: 'Failed projector transactions per second',
        description: 'By partition and failure class: unprocessable records are narrowed and rejected; the rest are retried.',
        unit: 'ops',
        targets: [
          target(
            `sum by (partition, failure_class) (rate(timeline_projector_batch_failures_total{${PROJECTOR},${PARTITION}}[${RATE}]))`,
            'partition {{partition}} {{failure_class}}',
          ),
        ],
      },
    ],
  },
  {
    title: 'Relay and stream',
    panels: [
      {
        title: 'Relay backlog',
        description: 'Accepted changes (outbox rows) not yet published to timeline.events.',
        unit: 'suffix: changes',
        targets: [target(RECORDED.relayRecords, 'unsent')],
      },
      {
        title: 'Oldest unsent change',
        description: 'Age of the oldest outbox row not yet published; 0 when none waits.',
        unit: 's',
        targets: [target(RECORDED.relaySeconds, 'oldest unsent')],
      },
      {
        title: 'Stream clients',
        description: 'Clients connected to /v1/stream, per api instance.',
        unit: 'suffix: clients',
        targets: [target(`timeline_stream_connected_clients{${API}}`, '{{instance}}')],
      },
      {
        title: 'Kafka producers',
        description: 'Records waiting for the next produce call and in flight (acks=all), per topic and instance.',
        unit: 'suffix: records',
        targets: [
          target(`timeline_kafka_producer_queued_records{${BOTH}}`, 'queued {{topic}} {{instance}}'),
          target(`timeline_kafka_producer_in_flight_records{${BOTH}}`, 'in flight {{topic}} {{instance}}'),
        ],
      },
    ],
  },
  {
    title: 'Processes',
    panels: [
      {
        title: 'Ready and scraped',
        description: 'timeline_ready (what /health/ready answers) and up (the scrape succeeded), per instance.',
        unit: 'bool_yes_no',
        targets: [target(`timeline_ready{${BOTH}}`, 'ready {{job}} {{instance}}'), target(`up{${BOTH}}`, 'up {{job}} {{instance}}')],
      },
      {
        title: 'Event loop delay (p99)',
        description: 'How late the event loop runs: every request and batch waits that long.',
        unit: 's',
        targets: [target(`nodejs_eventloop_lag_p99_seconds{${BOTH}}`, '{{job}} {{instance}}')],
      },
      {
        title: 'Memory',
        description: 'Resident set and V8 heap in use, per process.',
        unit: 'bytes',
        targets: [
          target(`process_resident_memory_bytes{${BOTH}}`, 'resident {{job}} {{instance}}'),
          target(`sum by (job, instance) (nodejs_heap_size_used_bytes{${BOTH}})`, 'heap {{job}} {{instance}}'),
        ],
      },
      {
        title: 'PostgreSQL pool',
        description: 'Connections open, the most the pool opens, and queries waiting for one, per process.',
        unit: 'suffix: connections',
        targets: [
          target(`timeline_postgres_pool_connections{${BOTH}}`, 'open {{job}} {{instance}}'),
          target(`timeline_postgres_pool_max_connections{${BOTH}}`, 'max {{job}} {{instance}}'),
          target(`timeline_postgres_pool_waiting_clients{${BOTH}}`, 'waiting {{job}} {{instance}}'),
        ],
      },
    ],
  },
];

const PANEL_WIDTH = 12;
const PANEL_HEIGHT = 8;

/** The dashboard's JSON model (Grafana's classic schema, which every Grafana since 9 reads). */
export function timelineDashboard(): Record<string, unknown> {
  let id = 0;
  let y = 0;
  const panels: Record<string, unknown>[] = [];
  for (const row of ROWS) {
    panels.push({ id: ++id, type: 'row', title: row.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
    y += 1;
    row.panels.forEach((panel, index) => {
      panels.push({
        id: ++id,
        type: 'timeseries',
        title: panel.title,
        description: panel.description,
        datasource: DATASOURCE,
        gridPos: { x: (index % 2) * PANEL_WIDTH, y: y + Math.floor(index / 2) * PANEL_HEIGHT, w: PANEL_WIDTH, h: PANEL_HEIGHT },
        fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
        targets: panel.targets.map((t, index) => ({ datasource: DATASOURCE, expr: t.expr, legendFormat: t.legend, refId: String.fromCharCode(65 + index) })),
      });
    });
    y += Math.ceil(row.panels.length / 2) * PANEL_HEIGHT;
  }
  const variable = (name: string, label: string, query: string) => ({
    type: 'query',
    name,
    label,
    datasource: DATASOURCE,
    query: { query, refId: `${name}-values` },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 3,
  });
  return {
    uid: 'timeline-service',
    title: 'Timeline service',
    description: 'Writes, reads, the append path, partitions, relay, stream and processes of the timeline service (docs/operations.md).',
    tags: ['timeline'],
    editable: false,
    timezone: 'browser',
    refresh: '30s',
    time: { from: 'now-3h', to: 'now' },
    schemaVersion: 39,
    version: 1,
    templating: {
      list: [
        { type: 'datasource', name: 'datasource', label: 'Prometheus', query: 'prometheus', current: {} },
        variable('instance', 'Instance', `label_values(up{job=~"${API_JOB}|${PROJECTOR_JOB}"}, instance)`),
        variable('partition', 'Partition', `label_values(timeline_projection_lag_records{job="${PROJECTOR_JOB}"}, partition)`),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** Every query of the dashboard: the panels' and the variables'. */
export function dashboardQueries(dashboard = timelineDashboard()): { title: string; expr: string }[] {
  const panels = dashboard.panels as { title: string; targets?: { expr: string }[] }[];
  const variables = (dashboard.templating as { list: { name: string; definition?: string }[] }).list;
  return [
    ...panels.flatMap((panel) => (panel.targets ?? []).map(({ expr }) => ({ title: panel.title, expr }))),
    ...variables.filter((v) => v.definition).map((v) => ({ title: `variable ${v.name}`, expr: v.definition! })),
  ];
}
