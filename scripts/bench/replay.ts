/**
 * Projector replay: a commands topic filled straight through our KafkaCommandLog (records built as the
 * api's CommandSubmissionService builds them), then a fresh projector that decides and projects it all
 * into a new schema, timed until its stored offsets reach the topic's end offsets.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  COMMAND_HEADERS,
  type CommandDraft,
  commandRecord,
  commandsTopicSpec,
  fingerprintOf,
  type KafkaCommandLog,
  type OutgoingRecord,
} from '@timeline/command-log';
import { eventDataSchema, nameBasedUuid, timelineDataSchema, type TimelineCommand } from '@timeline/domain';
import type { Pool } from 'pg';
import { round } from './stats';
import { RssSampler, ServiceProcess } from '@timeline/dev-stack';

export const EVENT_BODY = {
  kind: 'statement.reported',
  title: 'Dichiarazione',
  language: 'it',
  validTime: '2023-07-12',
  factuality: 'reported',
} as const;

/** As CommandSubmissionService.submit does it: a fresh command id, the request's fingerprint, the same headers. */
function submittedRecord(draft: (commandId: string) => CommandDraft, request: unknown): OutgoingRecord {
  const commandId = randomUUID();
  const command = { ...draft(commandId), commandId, fingerprint: fingerprintOf(request) } as TimelineCommand;
  // The service always adds a traceparent (the caller's, or the start of a new trace).
  return commandRecord(command, {
    [COMMAND_HEADERS.traceparent]: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`,
  });
}

/** PUT /v1/timelines/{id} as the api's CreateTimelineRequestHandler turns it into a command. */
export function createTimelineRecord(timelineId: string, body: unknown): OutgoingRecord {
  const timeline = timelineDataSchema.parse(body);
  return submittedRecord(() => ({ type: 'CreateTimeline', timelineId, expectedVersion: undefined, timeline }), {
    route: 'PUT timeline',
    timelineId,
    timeline,
    expectedVersion: undefined,
  });
}

/** POST /v1/timelines/{id}/events as the api's RecordEventRequestHandler turns it into a command. */
export function recordEventRecord(timelineId: string, body: unknown): OutgoingRecord {
  const event = eventDataSchema.parse(body);
  return submittedRecord(
    (commandId) => ({ type: 'RecordEvent', timelineId, eventId: nameBasedUuid(`event:${commandId}`), expectedVersion: undefined, event }),
    { route: 'POST event', timelineId, body, expectedVersion: undefined },
  );
}

export interface FillResult {
  topic: string;
  partitions: number;
  timelines: number;
  recordEvents: number;
  records: number;
  bytes: number;
  seconds: number;
  recordsPerSecond: number;
  endOffsets: Record<string, number>;
}

/** Creates the topic (as the apps do) and appends a CreateTimelineRequest per timeline, then the RecordEvents. */
export async function fillCommandsTopic(
  log: KafkaCommandLog,
  options: { topic: string; partitions: number; timelines: number; recordEvents: number },
): Promise<FillResult> {
  const { topic, partitions, timelines, recordEvents } = options;
  await log.ensureTopics([commandsTopicSpec(topic, partitions, 1)]);
  const appender = await log.appender(topic, { lingerMs: 5, maxBatch: 2_000 });
  const timelineIds = Array.from({ length: timelines }, (_, index) => `replay-${String(index + 1).padStart(3, '0')}`);
  const started = Date.now();
  let bytes = 0;
  const append = (record: OutgoingRecord) => {
    bytes += record.value.length;
    return appender.append(record);
  };
  try {
    await Promise.all(timelineIds.map((id) => append(createTimelineRecord(id, { title: `Replay ${id}`, defaultLanguage: 'it' }))));
    const window = 10_000;
    for (let start = 0; start < recordEvents; start += window) {
      const appends: Promise<unknown>[] = [];
      for (let n = start; n < Math.min(recordEvents, start + window); n++) {
        appends.push(append(recordEventRecord(timelineIds[n % timelines], { ...EVENT_BODY, title: `Dichiarazione ${n}` })));
      }
      await Promise.all(appends);
    }
  } finally {
    await appender.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const ends = await log.endOffsets(topic);
  const records = timelines + recordEvents;
  return {
    topic,
    partitions,
    timelines,
    recordEvents,
    records,
    bytes,
    seconds: round(seconds, 2),
    recordsPerSecond: round(records / seconds, 0),
    endOffsets: Object.fromEntries([...ends].map(([partition, end]) => [String(partition), end])),
  };
}

export interface ReplayResult {
  records: number;
  completed: boolean;
  /** From spawning the projector to the last offset stored (includes start-up: Nest, migrations, group join). */
  totalSeconds: number;
  commandsPerSecond: number;
  /** From the first stored progress to the end: the projector's steady rate. */
  steadySeconds: number;
  steadyCommandsPerSecond: number;
  startupSeconds: number;
  rss: {
    samples: number;
    intervalMs: number;
    peakKb: number | null;
    hwmKb: number | null;
    /** RSS at the first sample at or past 25/50/75/100% of the records. */
    atProgressKb: Record<string, number | null>;
  };
  /** Progress samples [seconds since spawn, records applied], one per ~second. */
  timeline: [number, number][];
}

/** Starts `projector` (already spawned by the caller at `spawnedAt`) and waits until it has stored `endOffsets`. */
export async function timeReplay(
  projector: ServiceProcess,
  spawnedAt: number,
  pool: Pool,
  schema: string,
  topic: string,
  endOffsets: Record<string, number>,
  timeoutMs: number,
): Promise<ReplayResult> {
  const total = Object.values(endOffsets).reduce((sum, end) => sum + end, 0);
  const sampler = new RssSampler(projector.pid, 250).start();
  const milestones = [25, 50, 75, 100];
  const atProgressKb: Record<string, number | null> = Object.fromEntries(milestones.map((m) => [`${m}%`, null]));
  const progressTimeline: [number, number][] = [];
  let firstProgress: { atMs: number; applied: number } | null = null;
  let applied = 0;
  let doneAt: number | null = null;
  const deadline = spawnedAt + timeoutMs;
  while (Date.now() < deadline) {
    if (projector.exited) throw new Error(`projector exited during the replay:\n${projector.logTail()}`);
    applied = await appliedRecords(pool, schema, topic, endOffsets);
    const now = Date.now();
    const rss = sampler.samples.at(-1)?.rssKb ?? null;
    if (applied > 0 && !firstProgress) firstProgress = { atMs: now, applied };
    for (const milestone of milestones) {
      if (atProgressKb[`${milestone}%`] === null && applied >= (total * milestone) / 100) atProgressKb[`${milestone}%`] = rss;
    }
    const second = round((now - spawnedAt) / 1000, 1);
    if (!progressTimeline.length || second - progressTimeline.at(-1)![0] >= 1 || applied >= total) progressTimeline.push([second, applied]);
    if (applied >= total) {
      doneAt = now;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const memory = sampler.stop();
  const end = doneAt ?? Date.now();
  const totalSeconds = (end - spawnedAt) / 1000;
  const steadySeconds = firstProgress ? (end - firstProgress.atMs) / 1000 : NaN;
  return {
    records: total,
    completed: doneAt !== null,
    totalSeconds: round(totalSeconds, 2),
    commandsPerSecond: round(applied / totalSeconds, 0),
    steadySeconds: round(steadySeconds, 2),
    steadyCommandsPerSecond: firstProgress ? round((applied - firstProgress.applied) / steadySeconds, 0) : 0,
    startupSeconds: firstProgress ? round((firstProgress.atMs - spawnedAt) / 1000, 2) : NaN,
    rss: { samples: memory.count, intervalMs: 250, peakKb: memory.peakKb, hwmKb: memory.hwmKb, atProgressKb },
    timeline: progressTimeline,
  };
}

/** Records applied so far: the stored next offsets, capped at the end offsets (0 before the schema exists). */
async function appliedRecords(pool: Pool, schema: string, topic: string, endOffsets: Record<string, number>): Promise<number> {
  try {
    const { rows } = await pool.query<{ partition: number; next_offset: string }>(
      `select partition, next_offset from "${schema}".consumer_offsets where topic = $1`,
      [topic],
    );
    return rows.reduce((sum, row) => sum + Math.min(Number(row.next_offset), endOffsets[String(row.partition)] ?? 0), 0);
  } catch (error) {
    if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000') return 0; // not migrated yet
    throw error;
  }
}

export interface RebuildResult {
  completed: boolean;
  /** The rebuild's final state: `switched`, or where it stopped. */
  state: string;
  records: number;
  /** From the start request until the rebuilt schema serves reads (replay, put-off indexes, catch-up, checksums, switch). */
  totalSeconds: number;
  commandsPerSecond: number;
  /** From the start request until the replay was within the switch's margin of the end (state `switching`). */
  replaySeconds: number;
  replayCommandsPerSecond: number;
  checksumsEqual: boolean | null;
}

/**
 * The same log again, through the projector's zero-downtime rebuild (`POST /admin/rebuild` on its admin
 * listener): a replay into a new schema as a bulk load (GIN indexes and actor keys made once at the end, see
 * BulkLoadRepository), then the switch. What an operator's rebuild of the read models costs.
 */
export async function timeRebuild(adminUrl: string, authorization: Record<string, string>, records: number, timeoutMs: number): Promise<RebuildResult> {
  const headers = { ...authorization, 'content-type': 'application/json' };
  const startedAt = Date.now();
  const started = await fetch(`${adminUrl}/admin/rebuild`, { method: 'POST', headers, body: JSON.stringify({ dropRetired: true }) });
  if (started.status !== 202) throw new Error(`rebuild not started: ${started.status} ${await started.text()}`);
  let replayedAt: number | null = null;
  let status: { state: string; checksum: { equal: boolean } | null } = { state: 'replaying', checksum: null };
  while (Date.now() - startedAt < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = (await (await fetch(`${adminUrl}/admin/rebuild`, { headers })).json()) as typeof status;
    if (status.state !== 'replaying') replayedAt ??= Date.now();
    if (status.state === 'switched' || status.state === 'failed') break;
  }
  const end = Date.now();
  const totalSeconds = (end - startedAt) / 1000;
  const replaySeconds = ((replayedAt ?? end) - startedAt) / 1000;
  return {
    completed: status.state === 'switched',
    state: status.state,
    records,
    totalSeconds: round(totalSeconds, 2),
    commandsPerSecond: round(records / totalSeconds, 0),
    replaySeconds: round(replaySeconds, 2),
    replayCommandsPerSecond: round(records / replaySeconds, 0),
    checksumsEqual: status.checksum?.equal ?? null,
  };
}
