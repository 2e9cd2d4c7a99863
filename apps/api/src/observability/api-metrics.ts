import { ServiceMetrics, STAGE_BUCKETS_SECONDS } from '@timeline/observability';
import type { ReplicaStatus } from '@timeline/database';
import { Counter, Gauge, Histogram } from 'prom-client';

// The api's metrics, on the process's registry; conventions in libs/observability/src/metrics.ts.

/** How the api answered a write: a decision, still pending (202), a reused Idempotency-Key, or an error. */
export type AnswerOutcome = 'accepted' | 'rejected' | 'pending' | 'idempotency_conflict' | 'overloaded' | 'append_failed' | 'failed';

/** Why a write was refused before it was appended: the admission bound, or the producer's queue. */
export type RefusalReason = 'waiting_decisions' | 'append_queue';

/** Which per-client or per-process limit refused a request (docs/api.md, Limits); the last two are load shedding (SHED_*). */
const REQUEST_LIMITS = [
  'writes',
  'queries',
  'stream_clients',
  'stream_clients_per_address',
  'stream_catch_ups',
  'event_loop_delay',
  'event_loop_utilization',
] as const;
export type RequestLimit = (typeof REQUEST_LIMITS)[number];
const REFUSAL_REASONS: RefusalReason[] = ['waiting_decisions', 'append_queue'];

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

/** The api's own metrics: commands appended and answered, the stages of an append, stream clients, read routing. */
export class ApiMetrics {
  private readonly appended: Counter<'command_type'>;
  private readonly answered: Counter<'command_type' | 'outcome' | 'status_class'>;
  private readonly refused: Counter<'reason'>;
  private readonly limited: Counter<'limit'>;
  private readonly appendStages: Histogram<'stage'>;
  private streamClientSource: (() => number) | null = null;
  private readonly reads: Counter<'server'>;
  private replicaSource: (() => ReplicaStatus[]) | null = null;
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
        '"stream_clients_per_address" (429), "stream_clients" and "stream_catch_ups" (503); load shed before any handler ran (503, SHED_*): ' +
        '"event_loop_delay", "event_loop_utilization".',
      labelNames: ['limit'],
      registers,
    });
    // Every series from the start, at 0: a rate over a window sees the first refusal, and an alert's selector has series.
    for (const reason of REFUSAL_REASONS) this.refused.inc({ reason }, 0);
    for (const limit of REQUEST_LIMITS) this.limited.inc({ limit }, 0);
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
    this.reads = new Counter({
      name: 'timeline_reads_total',
      help: 'Read queries answered (timelines, events, search, the stream catch-up, ops counts), by server: "primary" or a read replica\'s name (replica-0, … in DATABASE_READ_URLS order).',
      labelNames: ['server'],
      registers,
    });
    const replicas = () => this.replicaSource?.() ?? [];
    const replicaGauges: [string, string, (replica: ReplicaStatus) => number | null][] = [
      [
        'timeline_read_replica_in_rotation',
        '1 while reads use the read replica (it answers, within READ_REPLICA_MAX_LAG_SECONDS and _BYTES), else 0.',
        (replica) => (replica.inRotation ? 1 : 0),
      ],
      [
        'timeline_read_replica_lag_bytes',
        "WAL bytes between the primary's insert position and the replica's replay position; absent while unknown.",
        (replica) => replica.lagBytes,
      ],
      [
        'timeline_read_replica_lag_seconds',
        'How long ago the primary was where the replica has replayed to (0 when caught up); absent while unknown.',
        (replica) => replica.lagSeconds,
      ],
    ];
    for (const [name, help, read] of replicaGauges) {
      new Gauge({
        name,
        help,
        labelNames: ['replica'],
        registers,
        collect() {
          this.reset();
          for (const replica of replicas()) {
            const value = read(replica);
            if (value !== null) this.set({ replica: replica.name }, value);
          }
        },
      });
    }
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

  /** Read routing: the servers reads may be answered by (every series from 0), and the replicas' state on each scrape. */
  watchReadRouting(servers: string[], replicas: () => ReplicaStatus[]): void {
    for (const server of servers) this.reads.inc({ server }, 0);
    this.replicaSource = replicas;
  }

  readAnswered(server: string): void {
    this.reads.inc({ server });
  }
}
