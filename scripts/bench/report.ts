/** The bench's printed report: one block per section that ran, then the ratios. */
import type { BatchAppendResult } from './batch-appends';
import type { ClientComparisonResult } from './client-comparison';
import type { ClosedLoopResult } from './closed-loop';
import type { EmmettRow } from './emmett';
import { formatCpu, type CpuUse } from './cpu';
import type { LoadResult } from './http-load';
import type { OpenLoadResult } from './open-load';
import type { QueryLatencyResult } from './query-latency';
import { ratiosTable, type Ratio } from './ratios';
import type { RawWriteResult } from './raw-postgres';
import type { ReplicaReadsResult } from './replica-reads';
import type { FillResult, RebuildResult, ReplayResult } from './replay';
import type { StageMeans } from './stage-metrics';
import { mib, table } from './stats';
import type { LoadPicture } from './tail-recorder';
import type { SubscriberLatencyResult } from './subscriber-latency';

export interface Machine {
  date: string;
  cores: number;
  cpu: string;
  memoryGiB: number;
  loadAverage1m: number;
  node: string;
  kafka: string;
  postgres: string;
}

export interface BenchSettings {
  sections: string[];
  warmupS: number;
  durationS: number;
  timelines: number;
  partitions: number;
  groupCommitDefaults: { PRODUCER_LINGER_MS: number; PRODUCER_MAX_BATCH: number };
  eventBody: unknown;
  loadGenerator: string;
}

export interface ReplaySection extends ReplayResult {
  fill: FillResult;
  outcomes: Record<string, number>;
  cpu: CpuUse;
  relay: { outboxRows: number; unsentAtCompletion: number } | null;
  /** The same log through the projector's rebuild (a bulk load, then the switch); null when not run. */
  rebuild?: RebuildResult | null;
}

/** Open-model load at a fraction of the capacity (the best closed-loop appends/s, or a short probe). */
export interface OpenLoadSection {
  capacityPerSecond: number;
  capacityFrom: string;
  half: OpenLoadResult;
  halfStages: StageMeans;
  /** Absent when BENCH_OPEN_LOAD_HALF_ONLY=1 (repeated short runs of the half-capacity load). */
  double?: OpenLoadResult;
}

export interface BenchResults {
  generatedAt: string;
  machine: Machine;
  settings: BenchSettings;
  httpAppends?: LoadResult[];
  /** Mean ms per append stage during the one-caller row. */
  oneCallerStages?: StageMeans;
  apiRss?: { peakKb: number | null; hwmKb: number | null; samples: number };
  projectorRssDuringHttp?: { peakKb: number | null; hwmKb: number | null };
  openLoad?: OpenLoadSection;
  subscriberLatency?: SubscriberLatencyResult & { offeredPerSecond: number };
  /** Latency over time of the open-model loads (PNG files), and in tail mode what happened during each. */
  pictures?: Record<string, LoadPicture>;
  batchAppends?: BatchAppendResult;
  groupCommit?: { connections: number; off: LoadResult; on: LoadResult; ratio: number };
  emmett?: EmmettRow[];
  rawKafka?: ClosedLoopResult[];
  kafkaClients?: ClientComparisonResult;
  replay?: ReplaySection;
  rawPostgres?: RawWriteResult[];
  queries?: QueryLatencyResult;
  replicas?: ReplicaReadsResult;
  ratios: Ratio[];
  benchSeconds: number;
  /** The run failed or was cut short by its time limit: the sections that had not finished are missing. */
  incomplete?: boolean;
}

const CPU_GROUPS = ['api', 'projector', 'kafka', 'postgres', 'loadgen', 'other'];
/** More than this many cores used by processes the bench did not start: the figures are skewed. */
const OTHER_CPU_WARNING = 0.25;
const QUERY_GOAL_MS = 5;

export function report(r: BenchResults): string {
  const m = r.machine;
  const s = r.settings;
  const cpus = [...(r.httpAppends ?? []).map((x) => x.cpu), r.groupCommit?.off.cpu, r.groupCommit?.on.cpu, r.replay?.cpu];
  const contended = cpus.some((cpu) => (cpu?.other ?? 0) > OTHER_CPU_WARNING);
  const blocks = [
    [
      '',
      `Timeline service benchmark, ${m.date}; sections: ${s.sections.join(', ')}`,
      `Everything runs on this one machine: load generators, baselines, api, projector, Kafka, PostgreSQL, all on 127.0.0.1.`,
      `CPU columns: cores used during the measured window (${m.cores}.00 = the whole machine); "other" = processes this bench did not start.`,
      ...(contended
        ? [
            `WARNING: other processes used more than ${OTHER_CPU_WARNING} cores during some windows (load average ${m.loadAverage1m} at start): figures are skewed low.`,
          ]
        : []),
    ].join('\n'),
    r.httpAppends && appendsBlock(r.httpAppends, r, s),
    r.openLoad && openLoadBlock(r.openLoad),
    r.subscriberLatency && subscriberBlock(r.subscriberLatency),
    r.pictures && picturesBlock(r.pictures),
    r.batchAppends && batchBlock(r.batchAppends),
    r.groupCommit && groupCommitBlock(r.groupCommit, s),
    r.emmett &&
      baselineBlock(
        `Baseline: Emmett's PostgreSQL appendToStream, one event per call, closed loop over ${s.timelines} streams, own database; ` +
          `a call that loses a race on its stream (412) is retried and counts once`,
        r.emmett,
      ),
    r.rawKafka &&
      baselineBlock(
        `Baseline: raw kafkajs producer, our record and key, linger ${s.groupCommitDefaults.PRODUCER_LINGER_MS} ms / batch ${s.groupCommitDefaults.PRODUCER_MAX_BATCH}, ` +
          `one send in flight, acks all, ${s.partitions} partitions`,
        r.rawKafka,
      ),
    r.kafkaClients && kafkaClientsBlock(r.kafkaClients, s.groupCommitDefaults),
    r.replay && replayBlock(r.replay),
    r.rawPostgres && rawPostgresBlock(r.rawPostgres),
    r.queries && queryBlock(r.queries),
    r.replicas && replicasBlock(r.replicas),
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB RAM, load average ${m.loadAverage1m} at start; Node ${m.node}; ` +
      `Kafka ${m.kafka} (KRaft, 1 broker, ${s.partitions} partitions); ${m.postgres}`,
    ['Ratios (every figure from this run)', ratiosTable(r.ratios)].join('\n'),
    `bench took ${r.benchSeconds} s (before clean-up)${r.incomplete ? ', INCOMPLETE: failed or cut short by its time limit, see above' : ''}; figures also in bench-results.json`,
  ];
  return blocks.filter(Boolean).join('\n\n');
}

function otherStatuses(result: LoadResult): string {
  const parts = Object.entries(result.otherStatuses).map(([status, count]) => `${status}x${count}`);
  if (result.errors) parts.push(`errors x${result.errors}`);
  if (result.timeouts) parts.push(`timeouts x${result.timeouts}`);
  return parts.join(' ') || '0';
}

const LOAD_HEADERS = [
  '',
  'req/s (201)',
  'p50 ms',
  'p99 ms',
  'max ms',
  '201s',
  'not 201',
  ...CPU_GROUPS.map((name) => name.replace('projector', 'proj.').replace('postgres', 'pg')),
];

function loadRow(label: string, result: LoadResult): (string | number)[] {
  return [
    label,
    result.requestsPerSecond.toFixed(1),
    result.latencyMs.p50.toFixed(1),
    result.latencyMs.p99.toFixed(1),
    result.latencyMs.max.toFixed(1),
    result.created,
    otherStatuses(result),
    ...CPU_GROUPS.map((name) => (result.cpu?.[name] ?? 0).toFixed(2)),
  ];
}

function stagesLine(label: string, means: StageMeans | undefined): string {
  if (!means) return `   ${label}: n/a`;
  const parts = Object.entries(means).map(([stage, ms]) => `${stage} ${ms === null ? 'n/a' : `${ms} ms`}`);
  return `   ${label} (mean per append, from the services' /metrics): ${parts.join(', ')}`;
}

function appendsBlock(httpAppends: LoadResult[], r: BenchResults, s: BenchSettings): string {
  const best = bestOf(httpAppends);
  const c1 = httpAppends[0];
  return [
    `1. HTTP single-event appends: POST /v1/timelines/{id}/events over ${s.timelines} timelines, 201 only once decided;`,
    `   ${s.warmupS} s warm-up + ${s.durationS} s measured per row; autocannon, closed loop; group commit on (defaults PRODUCER_LINGER_MS=${s.groupCommitDefaults.PRODUCER_LINGER_MS}, ` +
      `PRODUCER_MAX_BATCH=${s.groupCommitDefaults.PRODUCER_MAX_BATCH}); latency percentiles of the 201s`,
    table(
      LOAD_HEADERS,
      httpAppends.map((result) => loadRow(`concurrency ${result.connections}`, result)),
    ),
    ...(r.apiRss && r.projectorRssDuringHttp
      ? [`   api RSS during section 1: peak ${mib(r.apiRss.peakKb)} (VmHWM ${mib(r.apiRss.hwmKb)}); projector peak ${mib(r.projectorRssDuringHttp.peakKb)}`]
      : []),
    stagesLine('where one append goes, one caller', r.oneCallerStages),
    `   => best ${best.requestsPerSecond.toFixed(0)} appends/s at concurrency ${best.connections} (p50 ${best.latencyMs.p50.toFixed(1)} ms, p99 ${best.latencyMs.p99.toFixed(1)} ms); ` +
      `one caller alone: ${c1.requestsPerSecond.toFixed(0)} req/s, ${c1.latencyMs.p50.toFixed(1)} ms p50 (append + decide + project + answer)`,
  ].join('\n');
}

export function bestOf(results: LoadResult[]): LoadResult {
  return results.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
}

function statusCounts(result: OpenLoadResult): string {
  const parts = Object.entries(result.statuses).map(([status, count]) => `${status} x${count}`);
  if (result.errors) parts.push(`no answer x${result.errors}`);
  return parts.join(', ') || 'none';
}

function openLoadBlock(o: OpenLoadSection): string {
  const row = (label: string, result: OpenLoadResult) => [
    label,
    result.offeredPerSecond.toFixed(0),
    result.sent,
    result.latencyMs.p50.toFixed(1),
    result.latencyMs.p99.toFixed(1),
    result.latencyMs.max.toFixed(1),
    statusCounts(result),
    result.answeredAfter5s,
    Object.entries(result.errorsByCause)
      .map(([cause, count]) => `${cause} x${count}`)
      .join(', ') || '-',
    result.connectionsOpened,
    result.listenQueue ? `${result.listenQueue.overflows}/${result.listenQueue.drops}` : 'n/a',
  ];
  return [
    `Open-model load: POST /v1/timelines/{id}/events at a fixed offered rate (requests leave on a timer whatever the answers do);`,
    `   capacity ${o.capacityPerSecond.toFixed(0)} appends/s (${o.capacityFrom}); latency of all answers, from when each request was due`,
    `   (> 5 s: answers later than 5 s; no answer by cause; connections the generator opened; the kernel's listen-queue overflows/drops, whole machine)`,
    table(
      ['', 'offered/s', 'sent', 'p50 ms', 'p99 ms', 'max ms', 'answers', '> 5 s', 'no answer by cause', 'connections', 'listen overflows/drops'],
      [row('half capacity', o.half), ...(o.double ? [row('twice capacity', o.double)] : [])],
    ),
    stagesLine('where one append goes, half capacity', o.halfStages),
  ].join('\n');
}

function picturesBlock(pictures: Record<string, LoadPicture>): string {
  const lines = ['Latency over time (one dot per request; in tail mode, markers for what happened meanwhile):'];
  for (const [label, picture] of Object.entries(pictures)) {
    const lag = picture.generatorLagMs;
    lines.push(
      `   ${label}: ${picture.png}; load average ${picture.loadAverageBefore.join(' ')} before, ${picture.loadAverageAfter.join(' ')} after; ` +
        `generator sent late by p50 ${lag.p50} / p99 ${lag.p99} / max ${lag.max} ms`,
    );
    const tail = picture.tail;
    if (!tail) continue;
    const b = tail.batches;
    lines.push(
      `      projector batches ${b.count}: records p50 ${b.records.p50} max ${b.records.max}; apply_batch p50 ${b.applyBatchMs.p50} p99 ${b.applyBatchMs.p99} max ${b.applyBatchMs.max} ms; ` +
        `pauses between commits over 150 ms: ${b.commitGaps.count} (longest ${Math.round(b.commitGaps.longestMs)} ms), ${b.commitGaps.mostlyInApplyBatch} of them mostly in the next apply_batch`,
    );
    lines.push(
      `      GC: ${Object.entries(tail.gc)
        .map(([source, gc]) => `${source} ${gc.pauses} pauses, ${gc.totalMs} ms, max ${gc.maxMs} ms`)
        .join('; ')}`,
    );
    lines.push(
      `      PostgreSQL waits (samples of active backends): ${
        Object.entries(tail.postgres.waits)
          .map(([wait, count]) => `${wait} x${count}`)
          .join(', ') || 'none'
      }; GIN pending pages max: ${Object.entries(tail.postgres.ginPendingPagesMax)
        .map(([index, pages]) => `${index} ${pages}`)
        .join(', ')}`,
    );
    for (const stall of tail.stalls) {
      lines.push(
        `      stall at ${stall.from}-${stall.to} s: ${stall.answers} answers, worst ${stall.worstMs} ms, generator late by up to ${stall.generatorLagMs} ms`,
      );
      const waits = new Map<string, number>();
      for (const event of stall.events) {
        if (event.source === 'postgres wait') waits.set(event.what, (waits.get(event.what) ?? 0) + 1);
        else lines.push(`         ${event.at} s ${event.source}: ${event.what}${event.ms !== undefined ? ` (${event.ms} ms)` : ''}`);
      }
      if (waits.size) lines.push(`         waits sampled every 100 ms: ${[...waits].map(([what, count]) => `${what} x${count}`).join(', ')}`);
    }
  }
  return lines.join('\n');
}

function subscriberBlock(x: SubscriberLatencyResult & { offeredPerSecond: number }): string {
  const row = (label: string, summary: SubscriberLatencyResult['kafka']) => [
    label,
    summary.count,
    summary.p50.toFixed(1),
    summary.p99.toFixed(1),
    summary.max.toFixed(1),
    summary.missing,
  ];
  return [
    `Append -> subscriber at half capacity (${x.offeredPerSecond.toFixed(0)}/s offered, ${x.appends} appends answered 201/202; answers: ${statusCounts(x.load)}):`,
    `   from when the POST was due to when its change (CloudEvents id of the command's first change) arrived`,
    table(
      ['', 'seen', 'p50 ms', 'p99 ms', 'max ms', 'never seen'],
      [row('Kafka timeline.events (kafkajs consumer)', x.kafka), row('SSE GET /v1/stream', x.sse)],
    ),
  ].join('\n');
}

function batchBlock(b: BatchAppendResult): string {
  if (!b.available) return `Batch appends: POST /v1/timelines/{id}/events:batch: n/a (endpoint missing: answered ${b.status})`;
  const statuses = Object.entries(b.resultStatuses)
    .map(([status, count]) => `${status} x${count}`)
    .join(', ');
  return [
    `Batch appends: POST /v1/timelines/{id}/events:batch, ${b.eventsPerRequest} events per request, ${b.requests.callers} callers, closed loop`,
    table(
      ['', 'events/s (201)', 'requests/s', 'request p50 ms', 'request p99 ms', 'results', 'failed requests'],
      [
        [
          'batches',
          b.eventsPerSecond.toFixed(0),
          b.requests.operationsPerSecond.toFixed(1),
          b.requests.latencyMs.p50.toFixed(1),
          b.requests.latencyMs.p99.toFixed(1),
          statuses || 'none',
          b.requests.failures,
        ],
      ],
    ),
    ...(b.requests.firstFailure ? [`   first failure: ${b.requests.firstFailure}`] : []),
  ].join('\n');
}

function groupCommitBlock(g: NonNullable<BenchResults['groupCommit']>, s: BenchSettings): string {
  return [
    `2. Group commit at concurrency ${g.connections}: a fresh api process for each row, same database, topic and projector`,
    table(LOAD_HEADERS, [
      loadRow('off (LINGER_MS=0, MAX_BATCH=1)', g.off),
      loadRow(`on (defaults: ${s.groupCommitDefaults.PRODUCER_LINGER_MS} ms, ${s.groupCommitDefaults.PRODUCER_MAX_BATCH})`, g.on),
    ]),
    `   => group commit on/off = ${g.ratio.toFixed(2)}x throughput (${g.off.requestsPerSecond.toFixed(0)} -> ${g.on.requestsPerSecond.toFixed(0)} req/s), ` +
      `p50 ${g.off.latencyMs.p50.toFixed(1)} -> ${g.on.latencyMs.p50.toFixed(1)} ms, p99 ${g.off.latencyMs.p99.toFixed(1)} -> ${g.on.latencyMs.p99.toFixed(1)} ms`,
  ].join('\n');
}

function baselineBlock(title: string, rows: (ClosedLoopResult & { conflictRetries?: number; cpu?: CpuUse })[]): string {
  const retries = rows.some((row) => row.conflictRetries !== undefined);
  const cpuGroups = rows.some((row) => row.cpu) ? ['postgres', 'client', 'other'] : [];
  const best = rows.reduce((a, b) => (b.operationsPerSecond > a.operationsPerSecond ? b : a));
  return [
    title,
    table(
      [
        '',
        'ops/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'ops',
        ...(retries ? ['conflicts retried'] : []),
        'failures',
        ...cpuGroups.map((name) => (name === 'postgres' ? 'pg' : name)),
      ],
      rows.map((row) => [
        `concurrency ${row.callers}`,
        row.operationsPerSecond.toFixed(1),
        row.latencyMs.p50.toFixed(2),
        row.latencyMs.p99.toFixed(2),
        row.latencyMs.max.toFixed(1),
        row.operations,
        ...(retries ? [row.conflictRetries ?? 0] : []),
        row.failures ? `${row.failures} (${row.firstFailure})` : '0',
        ...cpuGroups.map((name) => (row.cpu?.[name] ?? 0).toFixed(2)),
      ]),
    ),
    `   => peak ${best.operationsPerSecond.toFixed(0)}/s at concurrency ${best.callers}`,
  ].join('\n');
}

/** Our appender over each Kafka client; the peaks' ratio is a figure only. */
function kafkaClientsBlock(result: ClientComparisonResult, defaults: { PRODUCER_LINGER_MS: number; PRODUCER_MAX_BATCH: number }): string {
  const settings = `linger ${defaults.PRODUCER_LINGER_MS} ms / batch ${defaults.PRODUCER_MAX_BATCH}, idempotent, acks all, one send in flight`;
  const blocks = [baselineBlock(`Kafka clients behind our appender (group commit, ${settings}): kafkajs`, result.kafkajs)];
  if (!result.confluent) return [...blocks, `   @confluentinc/kafka-javascript: not measured, ${result.skipped}`].join('\n');
  const peak = (rows: ClosedLoopResult[]) => Math.max(...rows.map((row) => row.operationsPerSecond));
  blocks.push(baselineBlock(`the same over @confluentinc/kafka-javascript ${result.confluentVersion} (librdkafka, KafkaJS-compatible API)`, result.confluent));
  const oneCaller = (rows: ClosedLoopResult[]) => rows.find((row) => row.callers === 1)?.latencyMs.p50;
  return [
    ...blocks,
    `   => confluent / kafkajs: peak ${(peak(result.confluent) / peak(result.kafkajs)).toFixed(2)}, ` +
      `one caller p50 ${oneCaller(result.confluent)?.toFixed(2) ?? 'n/a'} vs ${oneCaller(result.kafkajs)?.toFixed(2) ?? 'n/a'} ms (a figure only: kafkajs stays the client)`,
  ].join('\n');
}

function replayBlock(replay: ReplaySection): string {
  const milestones = Object.entries(replay.rss.atProgressKb)
    .map(([at, kb]) => `${at} ${mib(kb)}`)
    .join(', ');
  return [
    `3. Projector replay: ${replay.fill.recordEvents.toLocaleString('en')} RecordEvent + ${replay.fill.timelines} CreateTimeline commands over ${replay.fill.timelines} timelines ` +
      `(${(replay.fill.bytes / 1024 / 1024).toFixed(1)} MiB of JSON), appended through KafkaCommandLog at ${replay.fill.recordsPerSecond.toLocaleString('en')} records/s;`,
    `   then a fresh projector process (new schema, new consumer group), timed from spawn until its stored offsets reach the end offsets`,
    table(
      ['', 'value'],
      [
        ['commands decided', `${replay.records.toLocaleString('en')}${replay.completed ? '' : ' (NOT COMPLETED in time)'}`],
        [
          'outcomes',
          Object.entries(replay.outcomes)
            .map(([k, v]) => `${k} ${v.toLocaleString('en')}`)
            .join(', '),
        ],
        ['time, spawn to last offset stored', `${replay.totalSeconds} s (start-up to first stored batch ${replay.startupSeconds} s)`],
        ['throughput, including start-up', `${replay.commandsPerSecond.toLocaleString('en')} commands/s`],
        ['throughput, after the first batch', `${replay.steadyCommandsPerSecond.toLocaleString('en')} commands/s`],
        ['projector RSS, peak of 250 ms samples', `${mib(replay.rss.peakKb)} (VmHWM ${mib(replay.rss.hwmKb)}, ${replay.rss.samples} samples)`],
        ['projector RSS at progress', milestones],
        ['CPU (cores)', formatCpu(replay.cpu, ['projector', 'postgres', 'kafka', 'loadgen', 'other'])],
        [
          'outbox relay (same process) at the end',
          replay.relay
            ? `${(replay.relay.outboxRows - replay.relay.unsentAtCompletion).toLocaleString('en')} of ${replay.relay.outboxRows.toLocaleString('en')} changes published to timeline.events`
            : 'n/a',
        ],
        [
          'rebuild of the same log (POST /admin/rebuild)',
          replay.rebuild
            ? `${replay.rebuild.state} in ${replay.rebuild.totalSeconds} s (${replay.rebuild.commandsPerSecond.toLocaleString('en')} commands/s); ` +
              `replay with its indexes built ${replay.rebuild.replaySeconds} s (${replay.rebuild.replayCommandsPerSecond.toLocaleString('en')} commands/s); ` +
              `checksums ${replay.rebuild.checksumsEqual === null ? 'n/a' : replay.rebuild.checksumsEqual ? 'equal' : 'DIFFER'}`
            : 'n/a',
        ],
      ],
    ),
    `   => replay ${replay.steadyCommandsPerSecond.toLocaleString('en')} commands/s steady, ${replay.commandsPerSecond.toLocaleString('en')}/s including start-up; ` +
      `projector RSS peak ${mib(replay.rss.peakKb)}, ${milestones}`,
  ].join('\n');
}

function rawPostgresBlock(rows: RawWriteResult[]): string {
  return [
    `Baseline: raw PostgreSQL, one connection, events + event_revisions created by our migrations (all their indexes), one row in each per RecordEvent,`,
    `   shaped as the projector writes them; transactions of 1,000 events; no decisions, outbox, offsets or notifications`,
    table(
      ['', 'events/s (row pairs)', 'events', 'seconds'],
      rows.map((row) => [
        row.method === 'unnest' ? 'insert ... select from unnest(...)' : 'COPY ... FROM STDIN (csv)',
        row.rowsPerSecond.toFixed(0),
        row.events,
        row.seconds.toFixed(2),
      ]),
    ),
  ].join('\n');
}

function queryBlock(result: QueryLatencyResult): string {
  const rows = result.queries.map((query) => [query.name, query.latencyMs.p50, query.latencyMs.p99, query.latencyMs.max, query.latencyMs.count]);
  return [
    `5. Query latency through HTTP on a read model of ${result.events.toLocaleString('en')} events over ${result.timelines} timelines`,
    `   (a tenth revised, so "knownAt" has history; generated in SQL in ${result.loadSeconds} s; sequential requests, light load)`,
    table(['query', 'p50 ms', 'p99 ms', 'max ms', 'requests'], rows),
    `   => worst p99 ${worstQueryP99(result)} ms vs ${QUERY_GOAL_MS} ms goal`,
  ].join('\n');
}

function replicasBlock(result: ReplicaReadsResult): string {
  const rows = result.runs.map((run) => [
    run.name,
    run.result.operationsPerSecond.toFixed(1),
    run.result.latencyMs.p50,
    run.result.latencyMs.p99,
    run.result.latencyMs.max,
    run.result.failures,
    Object.entries(run.readsByServer)
      .filter(([, count]) => count > 0)
      .map(([server, count]) => `${server} ${count}`)
      .join(', ') || 'n/a',
  ]);
  return [
    `6. Reads past one PostgreSQL: ${result.callers} callers in a closed loop over the ${result.shapes.length} query shapes of 5., one api,`,
    `   ${result.events.toLocaleString('en')} events over ${result.timelines} timelines on ${result.postgres}; the replica on the same machine`,
    table(['servers', 'queries/s', 'p50 ms', 'p99 ms', 'max ms', 'failures', 'reads answered by (timeline_reads_total)'], rows),
    `   => with the replica ${result.throughputRatio}x the queries/s of the primary alone (mean of the rounds, taken in turns)`,
  ].join('\n');
}

export function worstQueryP99(result: QueryLatencyResult): number {
  return Math.max(...result.queries.map((query) => query.latencyMs.p99));
}
