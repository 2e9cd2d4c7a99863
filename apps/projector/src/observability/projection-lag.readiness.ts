import { Injectable } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { ExtraReadinessCheck } from '@timeline/health';
import { ProjectionLag } from '@timeline/observability';
import { ProjectorTelemetry } from './projector-telemetry';

/**
 * The projector is ready while every partition is at most
 * PROJECTOR_READY_MAX_LAG_RECORDS behind and none of its own fails; a failing
 * partition is named with its failure class and error.
 */
@Injectable()
export class ProjectionLagReadiness extends ExtraReadinessCheck {
  readonly key = 'projection';

  constructor(
    private readonly config: TimelineConfig,
    private readonly lag: ProjectionLag,
    private readonly telemetry: ProjectorTelemetry,
  ) {
    super();
  }

  async check(): Promise<{ ready: boolean; detail: Record<string, unknown> }> {
    const maxLagRecords = this.config.projector.readyMaxLagRecords;
    const failing = this.telemetry.failingPartitions();
    const failures = failing.length ? { failingPartitions: failing } : {};
    try {
      const partitions = await this.lag.partitions();
      const behind = partitions.filter((partition) => partition.records > maxLagRecords).map((partition) => partition.partition);
      const lagRecords = Math.max(0, ...partitions.map((partition) => partition.records));
      return {
        ready: behind.length === 0 && failing.length === 0,
        detail: { lagRecords, maxLagRecords, ...(behind.length ? { partitionsBehind: behind } : {}), ...failures },
      };
    } catch (error) {
      return { ready: false, detail: { message: `lag unknown: ${(error as Error).message}`, maxLagRecords, ...failures } };
    }
  }
}
