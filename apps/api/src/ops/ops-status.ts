import { Injectable, Logger, Optional } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import {
  OperationsRepository,
  OpsStatusRepository,
  ReadRouter,
  type FailingPartitionStatus,
  type RecentRejection,
  type ReplicaStatus,
  type WalPosition,
} from '@timeline/database';
import { ProjectionLag } from '@timeline/observability';
import { Admission } from '../write-path/admission';
import { StreamFeed } from '../stream/stream-feed';

/** Throughput is counted over this window; decisions by outcome over the longer one. */
export const THROUGHPUT_WINDOW_SECONDS = 60;
export const OUTCOME_WINDOW_SECONDS = 3_600;
const RECENT_REJECTIONS = 10;
const TIMELINES_LISTED = 100;
/** Pages poll every second or two: one status read serves every poll of this long. */
const STATUS_TTL_MS = 500;

export interface OpsStatus {
  generatedAt: string;
  projection: {
    topic: string;
    /** Null when Kafka or PostgreSQL did not answer; `error` says which. */
    partitions:
      | {
          partition: number;
          endOffset: number;
          storedOffset: number;
          records: number;
          /** Null while records wait and none of the partition was decided yet. */
          seconds: number | null;
        }[]
      | null;
    error: string | null;
    /** Partitions whose projector transactions fail now, with the last error. */
    failing: FailingPartitionStatus[];
  };
  throughput: { windowSeconds: number; decisions: number; perSecond: number };
  decisions: {
    windowSeconds: number;
    accepted: number;
    rejected: number;
    rejectedByReason: { reason: string; count: number }[];
  };
  recentRejections: RecentRejection[];
  relay: { unsentRecords: number; oldestUnsentSeconds: number };
  stream: { connectedClients: number | null };
  /** Writes held and refused by this api instance's admission control; null where there is none. */
  admission: { waitingCommands: number; maxWaiting: number; refusedCommands: number } | null;
  /** Read-model rebuilds replaying now (or left behind by a failed one), from their schemas' stored offsets. */
  rebuilds: {
    schema: string;
    /** Records replayed, summed over the partitions. */
    applied: number;
    /** The topic's end offsets summed, the live end the rebuild catches up to; null when Kafka did not answer. */
    end: number | null;
  }[];
  timelines: { timelineId: string; title: string; eventCount: number }[];
  /** The read replicas of DATABASE_READ_URLS as this api instance sees them; empty without any. */
  readReplicas: ReplicaStatus[];
}

/**
 * Everything the ops page shows, read from Kafka (end offsets) and PostgreSQL
 * (stored offsets, decisions, outbox), so it is right whichever projector
 * instance owns a partition. Projection lag is that of `ProjectionLag`, the one
 * the projector's metrics and readiness read.
 */
@Injectable()
export class OpsStatusService {
  private readonly logger = new Logger(OpsStatusService.name);
  private cached: { at: number; status: Promise<OpsStatus> } | null = null;

  constructor(
    private readonly config: TimelineConfig,
    private readonly lag: ProjectionLag,
    private readonly operations: OperationsRepository,
    private readonly opsStatus: OpsStatusRepository,
    private readonly reads: ReadRouter,
    @Optional() private readonly stream?: StreamFeed,
    @Optional() private readonly admission?: Admission,
  ) {}

  /** With `atLeast` (a consistency token), read fresh, from a copy that has that write. */
  status(now = Date.now(), atLeast?: WalPosition): Promise<OpsStatus> {
    if (atLeast !== undefined) return this.read(now, atLeast);
    if (!this.cached || now - this.cached.at > STATUS_TTL_MS) {
      const status = this.read(now);
      this.cached = { at: now, status };
      // A failed read is not served to the next poll.
      status.catch(() => (this.cached = null));
    }
    return this.cached.status;
  }

  /** The counts and lists of the read models are reads like any query's (a replica in rotation, or the primary). */
  private async read(now: number, atLeast?: WalPosition): Promise<OpsStatus> {
    const [projection, failing, inLastMinute, counts, recentRejections, relay, timelines, rebuilds] = await Promise.all([
      this.projection(now),
      this.opsStatus.failingPartitions(this.config.kafka.commandsTopic),
      this.reads.read(atLeast, (models) => models.opsStatus.decisionsInLast(THROUGHPUT_WINDOW_SECONDS)),
      this.reads.read(atLeast, (models) => models.opsStatus.decisionCounts(OUTCOME_WINDOW_SECONDS)),
      this.reads.read(atLeast, (models) => models.opsStatus.recentRejections(RECENT_REJECTIONS)),
      this.operations.relayBacklog(),
      this.reads.read(atLeast, (models) => models.timelines.listTimelines({ limit: TIMELINES_LISTED })),
      this.opsStatus.rebuildPositions(this.config.database.schema, this.config.kafka.commandsTopic),
    ]);
    const rejections = counts.filter((count) => count.outcome === 'rejected');
    return {
      generatedAt: new Date(now).toISOString(),
      projection: { ...projection, failing },
      throughput: {
        windowSeconds: THROUGHPUT_WINDOW_SECONDS,
        decisions: inLastMinute,
        perSecond: round(inLastMinute / THROUGHPUT_WINDOW_SECONDS, 2),
      },
      decisions: {
        windowSeconds: OUTCOME_WINDOW_SECONDS,
        accepted: sum(counts.filter((count) => count.outcome === 'accepted')),
        rejected: sum(rejections),
        rejectedByReason: rejections.map((count) => ({ reason: count.reason ?? 'unknown', count: count.count })),
      },
      recentRejections,
      relay: { unsentRecords: relay.records, oldestUnsentSeconds: round(relay.oldestSeconds, 1) },
      stream: { connectedClients: this.stream?.clientCount ?? null },
      admission: this.admission
        ? { waitingCommands: this.admission.waitingCommands, maxWaiting: this.admission.maxWaiting, refusedCommands: this.admission.refusedCommands }
        : null,
      rebuilds: rebuilds.map(({ schema, offsets }) => ({
        schema,
        applied: [...offsets.values()].reduce((total, offset) => total + offset, 0),
        end: projection.partitions?.reduce((total, partition) => total + partition.endOffset, 0) ?? null,
      })),
      timelines: timelines.map(({ timelineId, title, eventCount }) => ({ timelineId, title, eventCount })),
      readReplicas: this.reads.replicaStatuses(),
    };
  }

  /** Lag needs Kafka: while it does not answer, the rest of the page still does. */
  private async projection(now: number): Promise<Omit<OpsStatus['projection'], 'failing'>> {
    const topic = this.config.kafka.commandsTopic;
    try {
      const partitions = await this.lag.partitions(now);
      return {
        topic,
        partitions: partitions.map((entry) => ({ ...entry, seconds: Number.isNaN(entry.seconds) ? null : round(entry.seconds, 1) })),
        error: null,
      };
    } catch (error) {
      this.logger.warn(`projection lag not read: ${(error as Error).message}`);
      return { topic, partitions: null, error: 'lag unknown: Kafka or PostgreSQL did not answer' };
    }
  }
}

const sum = (counts: { count: number }[]) => counts.reduce((total, entry) => total + entry.count, 0);
const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
