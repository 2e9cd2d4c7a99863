import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AccessGuard, AuthModule } from '@timeline/auth';
import { CommandLogModule } from '@timeline/command-log';
import { ConfigModule, type TimelineConfig } from '@timeline/config';
import { DatabaseModule, databaseUnavailableProblem } from '@timeline/database';
import { HealthModule } from '@timeline/health';
import { ProblemDetailsFilter } from '@timeline/problems';
import { ObservabilityModule } from '@timeline/observability';
import { ProjectionLagReadiness } from './observability/projection-lag.readiness';
import { ProjectorMetrics } from './observability/projector-metrics';
import { ProjectorObservabilityModule } from './observability/projector-observability.module';
import { ProjectorService } from './projection/projector.service';
import { RebuildModule } from './rebuild/rebuild.module';
import { RelayModule } from './relay/relay.module';

@Module({
  imports: [
    AuthModule,
    DatabaseModule,
    CommandLogModule,
    ProjectorObservabilityModule,
    HealthModule.forRoot([ProjectionLagReadiness]),
    RelayModule,
    RebuildModule,
  ],
  providers: [
    ProjectorService,
    { provide: APP_FILTER, useValue: new ProblemDetailsFilter([databaseUnavailableProblem]) },
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
})
export class ProjectorModule {
  static forRoot(config: TimelineConfig): DynamicModule {
    return { module: ProjectorModule, imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(config, 'projector', ProjectorMetrics)] };
  }
}
