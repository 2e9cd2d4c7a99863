import { LATENCY_BUCKETS_SECONDS, ServiceMetrics, STAGE_BUCKETS_SECONDS, type PartitionLag } from '@timeline/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

// The projector's metrics, on the process's registry; conventions in libs/observability/src/metrics.ts.

const BATCH_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_SIZE_BUCKETS_RECORDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

export interface RelayBacklog {
  /** Outbox rows not yet published. */
  records: number;
  /** Age of the oldest of them; 0 when there is none. */
  oldestSeconds: number;
}

export interface ProjectorMetricSources {
  projectionLag(): Promise<PartitionLag[]>;
  /** Partitions whose last transaction failed, with the time of their first failure in a row (ISO 8601) and the last one's class. */
  failingPartitions(): { partition: number; since: string; failureClass: string }[];
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
      help:
        'Per partition this process owns while it fails, seconds since its transactions began to fail without one succeeding, ' +
        'with the failure class of the last failure; no series once it moves.',
      labelNames: ['partition', 'failure_class'],
      registers,
      collect() {
        const failing = failingPartitions();
        if (!failing) return;
        this.reset();
        for (const entry of failing) {
          this.set({ partition: String(entry.partition), failure_class: entry.failureClass }, Math.max(0, (Date.now() - Date.parse(entry.since)) / 1_000));
        }
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
    // One read per scrape, shared by the gauges that show it: the first gauge's collect starts it, the others of
    // the same scrape await it, and it is forgotten once the scrape has run.
    const sharedPerScrape = <T>(what: string, get: (sources: ProjectorMetricSources) => Promise<T> | T) => {
      let pending: Promise<T | undefined> | null = null;
      return () => (pending ??= read(what, get).finally(() => setImmediate(() => (pending = null))));
    };
    // One Kafka and one PostgreSQL round trip per scrape, shared by both lag gauges.
    const projectionLag = sharedPerScrape('projection lag', (sources) => sources.projectionLag());
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
    // Lag alone cannot tell a partition that moves slowly from one that does not move: this offset can.
    new Gauge({
      name: 'timeline_projection_next_offset',
      help: 'Per partition, the next offset of timeline.commands to decide (stored beside the read models); it moves as records are decided.',
      labelNames: ['partition'],
      registers,
      async collect() {
        const lag = await projectionLag();
        if (!lag) return;
        this.reset();
        for (const entry of lag) this.set({ partition: String(entry.partition) }, entry.storedOffset);
      },
    });

    const relayBacklog = sharedPerScrape('relay backlog', (sources) => sources.relayBacklog());
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
      this.decisionLatency.observe({ command_type: decision.commandType, outcome: decision.outcome }, Math.max(0, (committedAt - decision.appendedAt) / 1_000));
    }
  }
}
