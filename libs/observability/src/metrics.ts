import type { ProducerState } from '@timeline/command-log';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * What both apps' metrics share: one registry per process, the process's
 * default metrics, HTTP requests, the PostgreSQL pool and the Kafka producers.
 * Each app defines its own metrics on this registry, in its own code
 * (`ApiMetrics`, `ProjectorMetrics`), and names them in `ObservabilityModule.forRoot`.
 *
 * Conventions: the `timeline_` prefix, base units in names (`_seconds`, `_records`), `_total` for counters, and
 * only label values from a closed set (command types, outcomes, rejection
 * reasons, route patterns, partitions, configured topics): never ids or raw paths.
 *
 * Values come from the services and adapters that see them (a call after the
 * fact, or a source read on scrape); the domain code knows nothing of this.
 */

export type AppName = 'api' | 'projector';

/** Request and decision latency. */
export const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Stages of one append take from a fraction of a millisecond up: finer at the low end than request latency. */
export const STAGE_BUCKETS_SECONDS = [0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

// prom-client's default metrics include three gauges named `..._total`, which
// Prometheus reserves for counters (promtool rejects them). The same numbers,
// by type, remain in `nodejs_active_handles`, `_requests` and `_resources`.
const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

const methodLabel = (method: string) => (HTTP_METHODS.has(method) ? method : 'OTHER');

/** `2xx`, `4xx`…: a status class, the label requests are counted by. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

export interface PoolState {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  /** The pool's configuration: `max` is the most connections it opens (pg's default 10 when unset). */
  options: { max?: number };
}

/** How long a scrape waits for the readiness checks (Prometheus's default scrape timeout is 10 s). */
const READINESS_SCRAPE_WAIT_MS = 3_000;

/** pg's own default for `max`. */
const PG_DEFAULT_POOL_MAX = 10;

/** Metrics both apps have: HTTP requests, the PostgreSQL pool, Kafka producers, the process. */
/** Gauges read on each scrape: name, help, and what each reads of the pool or of a producer. */
const POOL_GAUGES: [string, string, (state: PoolState) => number][] = [
  ['timeline_postgres_pool_connections', 'Connections the PostgreSQL pool holds, busy or idle.', (state) => state.totalCount],
  ['timeline_postgres_pool_idle_connections', 'Connections of the PostgreSQL pool not in use.', (state) => state.idleCount],
  ['timeline_postgres_pool_waiting_clients', 'Queries waiting for a connection of the PostgreSQL pool.', (state) => state.waitingCount],
  [
    'timeline_postgres_pool_max_connections',
    'The most connections the PostgreSQL pool opens (DATABASE_POOL_SIZE).',
    (state) => state.options.max ?? PG_DEFAULT_POOL_MAX,
  ],
];
const PRODUCER_GAUGES: [string, string, (state: ProducerState) => number][] = [
  ['timeline_kafka_producer_connected', '1 while the Kafka producer for the topic is connected, else 0.', (state) => (state.connected ? 1 : 0)],
  ['timeline_kafka_producer_queued_records', 'Records waiting for the next produce call (group commit).', (state) => state.queued],
  ['timeline_kafka_producer_in_flight_records', 'Records in the produce call now waiting for the brokers (acks=all).', (state) => state.inFlight],
];

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_class'>;
  private readonly requestsReceived: Counter<'method' | 'route'>;
  private readonly unauthorizedRequests: Counter;
  private poolSource: (() => PoolState) | null = null;
  private producerSource: (() => ProducerState[]) | null = null;
  private readinessSource: (() => Promise<boolean>) | null = null;

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
    // Received against answered (the histogram's count) is what was never answered: an SLI counts both.
    this.requestsReceived = new Counter({
      name: 'timeline_http_requests_received_total',
      help: 'HTTP requests received, by method and route pattern; those not (yet) in timeline_http_request_duration_seconds_count were not answered.',
      labelNames: ['method', 'route'],
      registers,
    });
    this.unauthorizedRequests = new Counter({
      name: 'timeline_http_unauthorized_requests_total',
      help: 'Requests answered 401: no token, or one that is expired, malformed or not signed by a key this service accepts.',
      registers,
    });
    // A check that hangs (a broker that does not answer) must not hold the scrape past Prometheus's timeout: that
    // would read as the process being down. Past READINESS_SCRAPE_WAIT_MS it counts as not ready.
    const readiness = () => {
      const source = this.readinessSource;
      if (!source) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READINESS_SCRAPE_WAIT_MS)));
      return Promise.race([source(), late]).finally(() => clearTimeout(timer));
    };
    new Gauge({
      name: 'timeline_ready',
      help: 'What /health/ready would answer now, checked on each scrape: 1 ready, 0 not (see its body for why); 0 too when the checks take over 3 s.',
      registers,
      async collect() {
        const ready = await readiness();
        if (ready !== undefined) this.set(ready ? 1 : 0);
      },
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

  /** The health endpoint's readiness, run on each scrape (it never throws: a check that fails is "not ready"). */
  watchReadiness(source: () => Promise<boolean>): void {
    this.readinessSource = source;
  }

  requestReceived(method: string, route: string | undefined): void {
    this.requestsReceived.inc({ method: methodLabel(method), route: route ?? 'unmatched' });
  }

  observeHttpRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    this.httpRequestDuration.observe({ method: methodLabel(method), route: route ?? 'unmatched', status_class: statusClass(status) }, seconds);
    if (status === 401) this.unauthorizedRequests.inc();
  }
}
