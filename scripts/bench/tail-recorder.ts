/**
 * Latency over time for the bench's open-model loads: each load's requests are kept (due, sent, answered,
 * status) and drawn to `<BENCH_OUTPUT_DIR>/latency-<label>.png`. With BENCH_TAIL=1 it also records what could
 * cause a stall (scripts/bench/tail-evidence.ts): the markers of the picture, and each stall with the events
 * around it in bench-results.json.
 */
import { mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '@timeline/dev-stack';
import { seriesByStatus, writeLatencyPlot, type PlotMarker, type PlotSeries } from './latency-plot';
import type { OpenLoadSample } from './open-load';
import { summarize, round, type LatencySummary } from './stats';
import {
  commitGaps,
  jvmGcEvents,
  nodeGcEvents,
  PostgresWatch,
  projectorBatches,
  stallsWithEvents,
  type CommitGaps,
  type PostgresWatchResult,
  type Stall,
  type TailEvent,
} from './tail-evidence';

/** Answers slower than this count towards a stall. */
const STALL_THRESHOLD_MS = 150;
/** GC pauses at least this long are held against stalls. */
const GC_MARKER_MS = 10;
const GC_SERIES = [
  { suffix: 'api gc', name: 'api GC pause', colour: '#e6c200' },
  { suffix: 'projector gc', name: 'projector GC pause', colour: '#882255' },
  { suffix: 'kafka gc', name: 'Kafka GC pause', colour: '#332288' },
];

export interface TailRecorderOptions {
  enabled: boolean;
  logDir: string;
  outputDir: string;
  databaseUrl: string;
  database: string;
  schema: string;
  /** The PostgreSQL server's log file, readable when the bench runs beside the server. */
  serverLog?: string;
}

export interface ExtraSeries {
  name: string;
  colour: string;
  /** ms since the epoch: when the request was due and when the thing arrived. */
  points: { dueAt: number; arrivedAt: number }[];
}

export interface LoadPicture {
  png: string;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  /** How late the generator sent requests (sent − due): large values mean the generator itself stalled. */
  generatorLagMs: LatencySummary;
  tail?: {
    stalls: Stall[];
    gc: Record<string, { pauses: number; totalMs: number; maxMs: number; over10ms: number }>;
    batches: { count: number; records: LatencySummary; applyBatchMs: LatencySummary; chunkMs: LatencySummary; commitGaps: CommitGaps };
    postgres: Omit<PostgresWatchResult, 'events'>;
    eventsBySource: Record<string, number>;
  };
}

export class TailRecorder {
  readonly enabled: boolean;

  constructor(private readonly options: TailRecorderOptions) {
    this.enabled = options.enabled;
    mkdirSync(options.outputDir, { recursive: true });
  }

  static outputDir(): string {
    return process.env.BENCH_OUTPUT_DIR ?? path.join(REPO_ROOT, 'bench-output');
  }

  /** For the broker (before it starts): a GC log with wall-clock times. */
  kafkaJvmOptions(): string {
    return this.enabled ? `-Xlog:gc:file=${this.kafkaGcLog}:time` : '';
  }

  /** For a service process: its GC log, and the projector's per-batch lines. */
  serviceEnv(name: string, app: 'api' | 'projector'): Record<string, string> {
    if (!this.enabled) return {};
    return {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${path.join(REPO_ROOT, 'dist', 'scripts', 'bench', 'gc-log.js')}`.trim(),
      GC_LOG_FILE: path.join(this.options.logDir, `${name}-gc.jsonl`),
      ...(app === 'projector' ? { LOG_LEVEL: 'debug' } : {}),
    };
  }

  async prepareDatabase(): Promise<void> {
    if (this.enabled) await PostgresWatch.prepareDatabase(this.options.databaseUrl, 50);
  }

  async prepareSchema(): Promise<void> {
    if (this.enabled) await PostgresWatch.prepareSchema(this.options.databaseUrl, this.options.schema);
  }

  /**
   * Runs a load, then draws it. `services`: the names the api and the projector were spawned under (their GC
   * logs); `projectorLog` is the projector's log file.
   */
  async around<T>(
    label: string,
    title: string,
    services: { api: string; projector: string },
    projectorLog: string,
    load: (samples: OpenLoadSample[]) => Promise<{ result: T; extra?: ExtraSeries[] }>,
  ): Promise<{ result: T; picture: LoadPicture }> {
    const samples: OpenLoadSample[] = [];
    const loadAverageBefore = os.loadavg().map((value) => round(value, 2));
    const watch = this.enabled ? new PostgresWatch(this.options.databaseUrl, this.options.database, this.options.schema, this.options.serverLog) : null;
    await watch?.start();
    const { result, extra } = await load(samples);
    const watched = await watch?.stop();
    const loadAverageAfter = os.loadavg().map((value) => round(value, 2));
    const start = samples.length ? Math.min(...samples.map((sample) => sample.dueAt)) : Date.now();
    const end = samples.length ? Math.max(...samples.map((sample) => sample.answeredAt)) : Date.now();
    const seconds = (at: number) => (at - start) / 1_000;

    const series: PlotSeries[] = seriesByStatus(
      samples.map((sample) => ({ atS: seconds(sample.dueAt), latencyMs: sample.answeredAt - sample.dueAt, status: sample.status })),
    );
    for (const more of extra ?? [])
      series.push({
        name: more.name,
        colour: more.colour,
        points: more.points.map((point) => ({ atS: seconds(point.dueAt), latencyMs: point.arrivedAt - point.dueAt })),
      });
    const markers: PlotMarker[] = [];
    let tail: LoadPicture['tail'];
    if (watched) {
      const gcEvents = [
        ...Object.entries(services).flatMap(([role, name]) =>
          nodeGcEvents(path.join(this.options.logDir, `${name}-gc.jsonl`), `${role} gc`, start - 1_000, end),
        ),
        ...jvmGcEvents(this.kafkaGcLog, start - 1_000, end),
      ];
      const batches = projectorBatches(projectorLog, start, end);
      const events = [...watched.events, ...gcEvents.filter((event) => (event.ms ?? 0) >= GC_MARKER_MS)].sort((a, b) => a.at - b.at);
      // Durations on the latency axis: the projector's apply_batch calls (at their end) and GC pauses (at their start).
      series.unshift(
        { name: 'projector apply_batch', colour: '#999999', points: batches.map((batch) => ({ atS: seconds(batch.at), latencyMs: batch.applyBatchMs })) },
        ...GC_SERIES.map(({ suffix, name, colour }) => ({
          name,
          colour,
          points: gcEvents.filter((event) => event.source.endsWith(suffix)).map((event) => ({ atS: seconds(event.at), latencyMs: event.ms ?? 0 })),
        })),
      );
      for (const event of watched.events.filter((event) => event.source !== 'postgres wait'))
        markers.push({ atS: seconds(event.at), label: shortLabel(event), colour: colourOf(event) });
      const gc: NonNullable<LoadPicture['tail']>['gc'] = {};
      for (const event of gcEvents) {
        const entry = (gc[event.source] ??= { pauses: 0, totalMs: 0, maxMs: 0, over10ms: 0 });
        entry.pauses++;
        entry.totalMs = round(entry.totalMs + (event.ms ?? 0), 1);
        entry.maxMs = Math.max(entry.maxMs, event.ms ?? 0);
        if ((event.ms ?? 0) >= GC_MARKER_MS) entry.over10ms++;
      }
      const eventsBySource: Record<string, number> = {};
      for (const event of events) eventsBySource[event.source] = (eventsBySource[event.source] ?? 0) + 1;
      const { events: _events, ...postgres } = watched;
      tail = {
        stalls: stallsWithEvents(samples, events, STALL_THRESHOLD_MS).map((stall) => ({
          ...stall,
          events: stall.events.map((event) => ({ ...event, at: round(seconds(event.at), 3) })),
          from: round(seconds(stall.from), 3),
          to: round(seconds(stall.to), 3),
        })),
        gc,
        batches: {
          count: batches.length,
          records: summarize(batches.map((batch) => batch.records)),
          applyBatchMs: summarize(batches.map((batch) => batch.applyBatchMs)),
          chunkMs: summarize(batches.map((batch) => batch.chunkMs)),
          commitGaps: commitGaps(batches, STALL_THRESHOLD_MS),
        },
        postgres,
        eventsBySource,
      };
    }
    const png = path.join(this.options.outputDir, `latency-${label}.png`);
    writeLatencyPlot(png, { title, series, markers });
    return {
      result,
      picture: {
        png,
        loadAverageBefore,
        loadAverageAfter,
        generatorLagMs: summarize(samples.map((sample) => sample.sentAt - sample.dueAt)),
        ...(tail ? { tail } : {}),
      },
    };
  }

  private get kafkaGcLog(): string {
    return path.join(this.options.logDir, 'kafka-gc.log');
  }
}

function shortLabel(event: TailEvent): string {
  const ms = event.ms !== undefined ? ` ${Math.round(event.ms)} ms` : '';
  return `${event.source}: ${event.what.slice(0, 48)}${ms}`;
}

function colourOf(event: TailEvent): string {
  if (event.source === 'gin') return '#d55e00';
  if (event.what.startsWith('connection')) return '#cc79a7';
  return '#555555';
}
