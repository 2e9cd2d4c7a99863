import type { ProducerState } from '@timeline/command-log';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric of the service is defined in this file, so names, units and
 * labels can be reviewed in one place. Conventions: the `timeline_` prefix,
 * base units in names (`_seconds`, `_records`), `_total` for counters, and
 * only label values from a closed set (command types, outcomes, rejection
 * reasons, route patterns, partitions, configured topics): never ids or raw paths.
 *
 * Values come from the services and adapters that see them (a call after the
 * fact, or a source read on scrape); the domain code knows nothing of this.
 */

export type AppName = 'api' | 'projector';

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_SIZE_BUCKETS_RECORDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];
/** Stages of one append take from a fraction of a millisecond up: finer at the low end than request latency. */
const STAGE_BUCKETS_SECONDS = [0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

// prom-client's default metrics include three gauges named `..._total`, which
// Prometheus reserves for counters (promtool rejects them). The same numbers,
// by type, remain in `nodejs_active_handles`, `_requests` and `_resources`.
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `2xx`, `4xx`…: a status class, the label requests are counted by. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

export interface PoolState {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Metrics both apps have: HTTP requests, the PostgreSQL pool, Kafka producers, the process. */
/** Gauges read on each scrape: name, help, and what each reads of the pool or of a producer. */
const POOL_GAUGES: [string, string, (state: PoolState) => number][] = [
  ['timeline_postgres_pool_connections', 'Connections the PostgreSQL pool holds, busy or idle.', (state) => state.totalCount],
  ['timeline_postgres_pool_idle_connections', 'Connections of the PostgreSQL pool not in use.', (state) => state.idleCount],
  ['timeline_postgres_pool_waiting_clients', 'Queries waiting for a connection of the PostgreSQL pool.', (state) => state.waitingCount],
];
const PRODUCER_GAUGES: [string, string, (state: ProducerState) => number][] = [
  ['timeline_kafka_producer_connected', '1 while the Kafka producer for the topic is connected, else 0.', (state) => (state.connected ? 1 : 0)],
  ['timeline_kafka_producer_queued_records', 'Records waiting for the next produce call (group commit).', (state) => state.queued],
  ['timeline_kafka_producer_in_flight_records', 'Records in the produce call now waiting for the brokers (acks=all).', (state) => state.inFlight],
];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_class'>;
  private poolSource: (() => PoolState) | null = null;
  private producerSource: (() => ProducerState[]) | null = null;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(name);

    const registers = [this.registry];
    this.httpRequestDuration = new Histogram({
      name: 'timeline_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to sending its response, by route pattern and status class.',
      labelNames: ['method', 'route', 'status_class'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });

    const pool = () => this.poolSource?.();
    for (const [name, help, read] of POOL_GAUGES) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const state = pool();
          if (state) this.set(read(state));
        },
      });
    }
    const producers = () => this.producerSource?.() ?? [];
    for (const [name, help, read] of PRODUCER_GAUGES) {
      new Gauge({
        name,
        help,
        labelNames: ['topic'],
        registers,
        collect() {
          this.reset();
          for (const state of producers()) this.set({ topic: state.topic }, read(state));
        },
      });
    }
  }

  watchPool(source: () => PoolState): void {
    this.poolSource = source;
  }

  watchProducers(source: () => ProducerState[]): void {
    this.producerSource = source;
  }

  observeHttpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpRequestDuration.observe(
      { method: HTTP_METHODS.has(method) ? method : 'OTHER', route: route ?? 'unmatched', status_class: statusClass(status) },
      seconds,
    );
  }
}

/** How the api answered a write: a decision, still pending (202), a reused Idempotency-Key, or an error. */
export type AnswerOutcome = 'accepted' | 'rejected' | 'pending' | 'idempotency_conflict' | 'overloaded' | 'append_failed' | 'failed';

/** Why a write was refused before it was appended: the admission bound, or the producer's queue. */
export type RefusalReason = 'waiting_decisions' | 'append_queue';

/** Which per-client or per-process limit refused a request (README: Limits). */
export type RequestLimit = 'writes' | 'queries' | 'stream_clients' | 'stream_clients_per_address' | 'stream_catch_ups';

const ANSWER_STATUS_CLASS: Record<AnswerOutcome, string> = {
  accepted: '2xx',
  pending: '2xx',
  rejected: '4xx',
  idempotency_conflict: '4xx',
  overloaded: '5xx',
  append_failed: '5xx',
  failed: '5xx',
};

/**
 * Where one append's time goes in the api: `queued` (append called → produce request sent), `produced`
 * (sent → acknowledged by the brokers), `notified` (acknowledged → the notification naming the command
 * arrived), `decision_read` (notification → decision in hand).
 */
export type AppendStage = 'queued' | 'produced' | 'notified' | 'decision_read';

/** The api's own metrics: commands appended and answered, the stages of an append, stream clients. */
export class ApiMetrics {
  private readonly appended: Counter<'command_type'>;
  private readonly answered: Counter<'command_type' | 'outcome' | 'status_class'>;
  private readonly refused: Counter<'reason'>;
  private readonly limited: Counter<'limit'>;
  private readonly appendStages: Histogram<'stage'>;
  private streamClientSource: (() => number) | null = null;
  private waitingSource: (() => number) | null = null;
  /** Set by the SSE endpoint when it does not offer a source (`countStreamClientsWith`). */
  readonly streamClients: Gauge;

  constructor(service: ServiceMetrics) {
    const registers = [service.registry];
    this.appended = new Counter({
      name: 'timeline_api_commands_appended_total',
      help: 'Commands appended to timeline.commands (acks=all), by command type.',
      labelNames: ['command_type'],
      registers,
    });
    this.answered = new Counter({
      name: 'timeline_api_commands_answered_total',
      help: 'Write requests answered, by command type, outcome and HTTP status class.',
      labelNames: ['command_type', 'outcome', 'status_class'],
      registers,
    });
    this.refused = new Counter({
      name: 'timeline_api_commands_refused_total',
      help:
        'Commands refused with 503 `overloaded` before they were appended (not recorded), by reason: ' +
        '"waiting_decisions" (ADMISSION_MAX_WAITING) or "append_queue" (APPEND_MAX_QUEUED). Each event of a batch counts.',
      labelNames: ['reason'],
      registers,
    });
    this.limited = new Counter({
      name: 'timeline_api_requests_limited_total',
      help:
        'Requests refused by a limit before anything was done, by limit: "writes" and "queries" (429, rate limits per client), ' +
        '"stream_clients_per_address" (429), "stream_clients" and "stream_catch_ups" (503).',
      labelNames: ['limit'],
      registers,
    });
    const waiting = () => this.waitingSource?.();
    new Gauge({
      name: 'timeline_api_commands_waiting',
      help: 'Commands this api process has admitted and not yet answered (appending, or waiting for their decision); bounded by ADMISSION_MAX_WAITING.',
      registers,
      collect() {
        const count = waiting();
        if (count !== undefined) this.set(count);
      },
    });
    this.appendStages = new Histogram({
      name: 'timeline_api_append_stage_seconds',
      help:
        'Stages of a write decided within its wait: queued (append called to produce request sent), produced (sent to acknowledged), ' +
        'notified (acknowledged to the notification naming the command), decision_read (notification to decision in hand).',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS_SECONDS,
      registers,
    });
    const source = () => this.streamClientSource?.();
    this.streamClients = new Gauge({
      name: 'timeline_stream_connected_clients',
      help: 'Clients connected to the server-sent events stream of changes.',
      registers,
      collect() {
        const count = source();
        if (count !== undefined) this.set(count);
      },
    });
  }

  commandAppended(commandType: string): void {
    this.appended.inc({ command_type: commandType });
  }

  commandAnswered(commandType: string, outcome: AnswerOutcome): void {
    this.answered.inc({ command_type: commandType, outcome, status_class: ANSWER_STATUS_CLASS[outcome] });
  }

  commandsRefused(reason: RefusalReason, count: number): void {
    this.refused.inc({ reason }, count);
  }

  requestLimited(limit: RequestLimit): void {
    this.limited.inc({ limit });
  }

  /** Admission reports the commands it holds on each scrape. */
  countWaitingCommandsWith(source: () => number): void {
    this.waitingSource = source;
  }

  appendStage(stage: AppendStage, seconds: number): void {
    this.appendStages.observe({ stage }, Math.max(0, seconds));
  }

  /** The stream reports its client count on each scrape. */
  countStreamClientsWith(source: () => number): void {
    this.streamClientSource = source;
  }
}

export interface PartitionLag {
  partition: number;
  /** The offset after the partition's last record in Kafka. */
  endOffset: number;
  /** The next offset to decide, stored beside the read models. */
  storedOffset: number;
  /** endOffset − storedOffset. */
  records: number;
  /** now − Kafka timestamp of the last decided record; 0 when nothing waits. */
  seconds: number;
}

export interface RelayBacklog {
  /** Outbox rows not yet published. */
  records: number;
  /** Age of the oldest of them; 0 when there is none. */
  oldestSeconds: number;
}

export interface ProjectorMetricSources {
  projectionLag(): Promise<PartitionLag[]>;
  /** Partitions whose last transaction failed, with the time of their first failure in a row (ISO 8601). */
  failingPartitions(): { partition: number; since: string }[];
  relayBacklog(): Promise<RelayBacklog>;
  relayStatus(): { leading: boolean; published: number };
}

export interface AppliedDecision {
  commandType: string;
  outcome: 'accepted' | 'rejected';
  reason: string | null;
  /** Kafka append time of the command's record (ms since the epoch). */
  appendedAt: number;
}

/**
 * Where a command's time goes in the projector: `fetch` (the record's Kafka timestamp → the handler received
 * its batch) and `transaction` (transaction begin → commit done).
 */
export type ProjectorStage = 'fetch' | 'transaction';

/** The projector's own metrics: decisions, batches, stages, projection lag, relay lag. */
export class ProjectorMetrics {
  private readonly decisions: Counter<'command_type' | 'outcome' | 'reason'>;
  private readonly stages: Histogram<'stage'>;
  private readonly decisionLatency: Histogram<'command_type' | 'outcome'>;
  private readonly batchRecords: Histogram;
  private readonly batchDuration: Histogram;
  private readonly batchFailures: Counter<'partition' | 'failure_class'>;
  private readonly redactions: Counter;
  private sources: ProjectorMetricSources | null = null;
  private onSourceError: (what: string, error: Error) => void = () => undefined;

  constructor(service: ServiceMetrics) {
    const registers = [service.registry];
    this.decisions = new Counter({
      name: 'timeline_projector_decisions_total',
      help: 'Commands decided, by command type, outcome and rejection reason ("none" when accepted).',
      labelNames: ['command_type', 'outcome', 'reason'],
      registers,
    });
    this.redactions = new Counter({
      name: 'timeline_projector_redactions_applied_total',
      help: 'Redactions applied, one per partition of the command log that decided one (docs/redaction.md).',
      registers,
    });
    this.decisionLatency = new Histogram({
      name: 'timeline_projector_decision_latency_seconds',
      help: 'Time from the Kafka append of a command to the commit of its decision.',
      labelNames: ['command_type', 'outcome'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.batchRecords = new Histogram({
      name: 'timeline_projector_batch_records',
      help: 'Records decided and projected in one PostgreSQL transaction.',
      buckets: BATCH_SIZE_BUCKETS_RECORDS,
      registers,
    });
    this.batchDuration = new Histogram({
      name: 'timeline_projector_batch_duration_seconds',
      help: 'Time of one projector transaction: load state, decide, write, commit.',
      buckets: BATCH_DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.stages = new Histogram({
      name: 'timeline_projector_stage_seconds',
      help:
        "Stages of the projector's work: fetch (a record's Kafka timestamp to the handler receiving its batch, once per record), " +
        'transaction (begin to commit done, once per committed transaction).',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS_SECONDS,
      registers,
    });

    this.batchFailures = new Counter({
      name: 'timeline_projector_batch_failures_total',
      help:
        'Failed projector transactions, by partition and failure class: "unprocessable" when a record was refused ' +
        '(narrowed to it and decided rejected), else a fault that is retried (connection, serialization, timeout, shutdown, fenced, log-behind, database, unknown).',
      labelNames: ['partition', 'failure_class'],
      registers,
    });
    const failingPartitions = () => this.sources?.failingPartitions();
    new Gauge({
      name: 'timeline_projector_partition_stuck_seconds',
      help: 'Per partition this process owns, seconds since its transactions began to fail without one succeeding; 0 when it moves.',
      labelNames: ['partition'],
      registers,
      collect() {
        const failing = failingPartitions();
        if (!failing) return;
        this.reset();
        for (const entry of failing) this.set({ partition: String(entry.partition) }, Math.max(0, (Date.now() - Date.parse(entry.since)) / 1_000));
      },
    });

    const read = async <T>(what: string, get: (sources: ProjectorMetricSources) => Promise<T> | T): Promise<T | undefined> => {
      if (!this.sources) return undefined;
      try {
        return await get(this.sources);
      } catch (error) {
        this.onSourceError(what, error as Error);
        return undefined;
      }
    };
    // One Kafka and one PostgreSQL round trip per scrape, shared by both lag gauges.
    let lagRead: Promise<PartitionLag[] | undefined> | null = null;
    const projectionLag = () => {
      lagRead ??= read('projection lag', (sources) => sources.projectionLag()).finally(() => setImmediate(() => (lagRead = null)));
      return lagRead;
    };
    new Gauge({
      name: 'timeline_projection_lag_records',
      help: 'Records of timeline.commands not yet decided, per partition (end offset − stored offset).',
      labelNames: ['partition'],
      registers,
      async collect() {
        const lag = await projectionLag();
        if (!lag) return;
        this.reset();
        for (const entry of lag) this.set({ partition: String(entry.partition) }, entry.records);
      },
    });
    new Gauge({
      name: 'timeline_projection_lag_seconds',
      help: 'Per partition, now − Kafka timestamp of the last decided record while records wait; 0 when caught up.',
      labelNames: ['partition'],
      registers,
      async collect() {
        const lag = await projectionLag();
        if (!lag) return;
        this.reset();
        for (const entry of lag) this.set({ partition: String(entry.partition) }, entry.seconds);
      },
    });

    let backlogRead: Promise<RelayBacklog | undefined> | null = null;
    const relayBacklog = () => {
      backlogRead ??= read('relay backlog', (sources) => sources.relayBacklog()).finally(() => setImmediate(() => (backlogRead = null)));
      return backlogRead;
    };
    new Gauge({
      name: 'timeline_relay_lag_records',
      help: 'Outbox rows (accepted changes) not yet published to timeline.events.',
      registers,
      async collect() {
        const backlog = await relayBacklog();
        if (backlog) this.set(backlog.records);
      },
    });
    new Gauge({
      name: 'timeline_relay_lag_seconds',
      help: 'Age of the oldest outbox row not yet published (by its Kafka command timestamp); 0 when none waits.',
      registers,
      async collect() {
        const backlog = await relayBacklog();
        if (backlog) this.set(backlog.oldestSeconds);
      },
    });
    const relayStatus = () => this.sources?.relayStatus();
    new Gauge({
      name: 'timeline_relay_leading',
      help: '1 while this process holds the relay lease and publishes the outbox, else 0.',
      registers,
      collect() {
        const status = relayStatus();
        if (status) this.set(status.leading ? 1 : 0);
      },
    });
    let countedPublished = 0;
    new Counter({
      name: 'timeline_relay_published_changes_total',
      help: 'Changes this process published to timeline.events.',
      registers,
      collect() {
        const status = relayStatus();
        if (!status || status.published < countedPublished) return;
        this.inc(status.published - countedPublished);
        countedPublished = status.published;
      },
    });
  }

  readFrom(sources: ProjectorMetricSources, onError: (what: string, error: Error) => void): void {
    this.sources = sources;
    this.onSourceError = onError;
  }

  stage(stage: ProjectorStage, seconds: number): void {
    this.stages.observe({ stage }, Math.max(0, seconds));
  }

  batchFailed(partition: number, failureClass: string): void {
    this.batchFailures.inc({ partition: String(partition), failure_class: failureClass });
  }

  /** One committed projector transaction. */
  batchApplied(records: number, seconds: number, decisions: AppliedDecision[], committedAt = Date.now()): void {
    this.batchRecords.observe(records);
    this.batchDuration.observe(seconds);
    for (const decision of decisions) {
      this.decisions.inc({ command_type: decision.commandType, outcome: decision.outcome, reason: decision.reason ?? 'none' });
      if (decision.commandType === 'Redact' && decision.outcome === 'accepted') this.redactions.inc();
      this.decisionLatency.observe(
        { command_type: decision.commandType, outcome: decision.outcome },
        Math.max(0, (committedAt - decision.appendedAt) / 1_000),
      );
    }
  }
}
