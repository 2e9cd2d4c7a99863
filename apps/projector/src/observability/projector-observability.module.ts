import { Global, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { DatabaseModule, OperationsRepository } from '@timeline/database';
import { ProjectionLag } from '@timeline/observability';
import { OutboxRelay } from '../relay/outbox-relay';
import { RelayModule } from '../relay/relay.module';
import { ProjectorMetrics } from './projector-metrics';
import { ProjectorTelemetry } from './projector-telemetry';

/** Points the projector's scrape-time metrics at their sources. */
@Injectable()
class ProjectorMetricSources implements OnModuleInit {
  private readonly logger = new Logger('Metrics');

  constructor(
    private readonly metrics: ProjectorMetrics,
    private readonly lag: ProjectionLag,
    private readonly operations: OperationsRepository,
    private readonly relay: OutboxRelay,
    private readonly telemetry: ProjectorTelemetry,
  ) {}

  onModuleInit(): void {
    this.metrics.readFrom(
      {
        projectionLag: () => this.lag.partitions(),
        failingPartitions: () => this.telemetry.failingPartitions(),
        relayBacklog: () => this.operations.relayBacklog(),
        relayStatus: () => this.relay.status(),
      },
      (what, error) => this.logger.warn(`${what} not read for this scrape: ${error.message}`),
    );
  }
}

/** Projection lag (for metrics, readiness and the ops status) and the projector's telemetry. */
@Global()
@Module({
  imports: [DatabaseModule, RelayModule],
  providers: [ProjectionLag, ProjectorTelemetry, ProjectorMetricSources],
  exports: [ProjectionLag, ProjectorTelemetry],
})
export class ProjectorObservabilityModule {}
