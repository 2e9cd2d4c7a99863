import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import {
  BulkLoadRepository,
  ConsumerOffsetsRepository,
  createPool,
  ProjectionRepository,
  ReadModelSwitchRepository,
  runMigrations,
  type ReadModelChecksum,
} from '@timeline/database';
import { ServiceMetrics } from '@timeline/observability';
import { ProjectorMetrics } from '../observability/projector-metrics';
import { Gauge } from 'prom-client';
import { ProjectorTelemetry } from '../observability/projector-telemetry';
import { ProjectorService } from '../projection/projector.service';
import { offsetsBehind, replayProgress, sameOffsets, type ReplayProgress } from './rebuild-progress';

export type RebuildState = 'idle' | 'replaying' | 'switching' | 'switched' | 'failed';

export interface RebuildStatus {
  state: RebuildState;
  liveSchema: string;
  rebuildSchema: string | null;
  retiredSchema: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  progress: ReplayProgress | null;
  /** Per partition: the rebuilt schema's next offset and the topic's end offset. */
  partitions: { partition: number; applied: number; end: number }[];
  checksum: { live: ReadModelChecksum; rebuilt: ReadModelChecksum; equal: boolean } | null;
  error: string | null;
}

/** Records still to replay when the switch starts: the live projector waits while the rebuild applies them. */
const SWITCH_WHEN_BEHIND = 500;
const POLL_MS = 500;
const CATCH_UP_TIMEOUT_MS = 60_000;
const SWITCH_ATTEMPTS = 10;

/**
 * Rebuilds the read models without downtime: a second projector replays
 * timeline.commands from offset 0 into a new schema while the live one keeps
 * serving; once it has caught up, the live projector is held for a moment,
 * the rebuild brought to exactly the live offsets, both checksums compared
 * (invariant 3), and reads switched by renaming the schemas in one transaction.
 */
@Injectable()
export class ReadModelRebuild implements OnApplicationShutdown {
  private readonly logger = new Logger(ReadModelRebuild.name);
  private current: RebuildStatus;
  private running: Promise<void> | null = null;
  private stopping = false;

  constructor(
    private readonly config: TimelineConfig,
    private readonly log: CommandLog,
    private readonly switcher: ReadModelSwitchRepository,
    private readonly consumerOffsets: ConsumerOffsetsRepository,
    service: ServiceMetrics,
  ) {
    this.current = this.idle();
    registerRebuildGauges(service, () => this.current);
  }

  status(): RebuildStatus {
    return this.current;
  }

  /** Starts a rebuild in the background; returns its status, or the running one's. */
  start(options: { dropRetired?: boolean } = {}): RebuildStatus {
    if (this.running) return this.current;
    const stamp = new Date()
      .toISOString()
      .replace(/[-:TZ.]/g, '')
      .slice(0, 14);
    const liveSchema = this.config.database.schema;
    this.current = {
      ...this.idle(),
      state: 'replaying',
      rebuildSchema: `${liveSchema}_rebuild_${stamp}`,
      retiredSchema: `${liveSchema}_retired_${stamp}`,
      startedAt: new Date().toISOString(),
    };
    this.running = this.run(this.current.rebuildSchema!, this.current.retiredSchema!, `${this.config.kafka.consumerGroup}-rebuild-${stamp}`, options)
      .catch((error: Error) => {
        this.logger.error(`rebuild failed: ${error.message}`);
        this.current = { ...this.current, state: 'failed', error: error.message, finishedAt: new Date().toISOString() };
      })
      .finally(() => {
        this.running = null;
      });
    return this.current;
  }

  /** Resolves when the rebuild in progress (if any) has ended. */
  async finished(): Promise<RebuildStatus> {
    await this.running;
    return this.current;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async run(rebuildSchema: string, retiredSchema: string, consumerGroup: string, options: { dropRetired?: boolean }): Promise<void> {
    const liveSchema = this.config.database.schema;
    const rebuildConfig = this.config.forReadModel(rebuildSchema, consumerGroup);
    const pool = createPool({ ...rebuildConfig.database, poolSize: 4, applicationName: 'timeline-rebuild' });
    // Its own metrics registry: the replay must not count as the live projector's decisions.
    const projector = new ProjectorService(
      rebuildConfig,
      this.log,
      ProjectionRepository.forReplay(pool),
      new ConsumerOffsetsRepository(pool),
      new ProjectorTelemetry(new ProjectorMetrics(new ServiceMetrics())),
    );
    const bulkLoad = new BulkLoadRepository(pool);
    try {
      await runMigrations(pool, rebuildSchema);
      const deferred = await bulkLoad.begin(rebuildSchema);
      this.logger.log(`replaying ${this.config.kafka.commandsTopic} from offset 0 into ${rebuildSchema} (${deferred.indexes.length} GIN indexes put off)`);
      await projector.start();
      await this.replayUntilNearlyCaughtUp(rebuildSchema);
      const started = Date.now();
      await bulkLoad.finish(deferred);
      this.logger.log(`built the put-off indexes and actor keys of ${rebuildSchema} in ${Date.now() - started} ms`);
      this.current = { ...this.current, state: 'switching' };
      const outcome = await this.switchOver(liveSchema, rebuildSchema, retiredSchema, projector);
      const equal = JSON.stringify(outcome.liveChecksum) === JSON.stringify(outcome.rebuiltChecksum);
      this.current = { ...this.current, checksum: { live: outcome.liveChecksum, rebuilt: outcome.rebuiltChecksum, equal } };
      if (!outcome.switched) throw new Error('the rebuilt read models differ from the live ones; reads stay on the live schema');
      if (options.dropRetired) await this.switcher.dropSchema(retiredSchema);
      this.current = { ...this.current, state: 'switched', finishedAt: new Date().toISOString() };
      this.logger.log(`reads switched to the rebuilt read models; the old ones are ${options.dropRetired ? 'dropped' : `kept as ${retiredSchema}`}`);
    } finally {
      await projector.onApplicationShutdown().catch(() => undefined);
      await pool.end().catch(() => undefined);
    }
  }

  private async replayUntilNearlyCaughtUp(rebuildSchema: string): Promise<void> {
    let previous: { at: number; applied: number } | null = null;
    for (;;) {
      if (this.stopping) throw new Error('the projector is shutting down');
      const topic = this.config.kafka.commandsTopic;
      const [applied, end] = await Promise.all([this.consumerOffsets.nextOffsets(topic, { schema: rebuildSchema }), this.log.endOffsets(topic)]);
      const at = Date.now();
      const progress = replayProgress({ at, applied, end }, previous);
      previous = { at, applied: progress.applied };
      this.current = {
        ...this.current,
        progress,
        partitions: [...end].map(([partition, endOffset]) => ({ partition, applied: applied.get(partition) ?? 0, end: endOffset })),
      };
      if (offsetsBehind(applied, end) <= SWITCH_WHEN_BEHIND) return;
      await sleep(POLL_MS);
    }
  }

  /** Holds the live projector, brings the rebuild to exactly its offsets, compares, switches. Retries if the rebuild ran ahead. */
  private async switchOver(liveSchema: string, rebuildSchema: string, retiredSchema: string, projector: ProjectorService) {
    const topic = this.config.kafka.commandsTopic;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.switcher.switchTo(topic, liveSchema, rebuildSchema, retiredSchema, async (liveOffsets) => {
          projector.holdBelow(liveOffsets);
          const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
          for (;;) {
            const rebuilt = await this.consumerOffsets.nextOffsets(topic, { schema: rebuildSchema });
            if (sameOffsets(rebuilt, liveOffsets)) return;
            if (offsetsBehind(liveOffsets, rebuilt) > 0) throw new RebuildAhead();
            if (Date.now() > deadline) throw new Error('the rebuild did not reach the live offsets in time');
            await sleep(20);
          }
        });
      } catch (error) {
        if (!(error instanceof RebuildAhead) || attempt >= SWITCH_ATTEMPTS) throw error;
        // The live projector is behind the rebuild: let both run on and try again.
        projector.holdBelow(null);
        await sleep(POLL_MS);
      }
    }
  }

  private idle(): RebuildStatus {
    return {
      state: 'idle',
      liveSchema: this.config.database.schema,
      rebuildSchema: null,
      retiredSchema: null,
      startedAt: null,
      finishedAt: null,
      progress: null,
      partitions: [],
      checksum: null,
      error: null,
    };
  }
}

class RebuildAhead extends Error {
  constructor() {
    super('the rebuild is ahead of the live projector');
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const STATES: RebuildState[] = ['idle', 'replaying', 'switching', 'switched', 'failed'];

function registerRebuildGauges(service: ServiceMetrics, status: () => RebuildStatus): void {
  const registers = [service.registry];
  new Gauge({
    name: 'timeline_rebuild_state',
    help: 'Read-model rebuild: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers,
    collect() {
      for (const state of STATES) this.set({ state }, status().state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'timeline_rebuild_applied_records',
    help: 'Records the rebuilding projector has applied (sum over partitions).',
    registers,
    collect() {
      this.set(status().progress?.applied ?? 0);
    },
  });
  new Gauge({
    name: 'timeline_rebuild_total_records',
    help: 'Records in timeline.commands when the rebuild last looked (sum of end offsets).',
    registers,
    collect() {
      this.set(status().progress?.total ?? 0);
    },
  });
  new Gauge({
    name: 'timeline_rebuild_records_per_second',
    help: 'Replay rate of the rebuilding projector.',
    registers,
    collect() {
      this.set(status().progress?.recordsPerSecond ?? 0);
    },
  });
}
