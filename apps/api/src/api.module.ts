import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { AccessGuard, AuthModule, TimelineReachResolver } from '@timeline/auth';
import { CommandLogModule } from '@timeline/command-log';
import { ConfigModule, type TimelineConfig } from '@timeline/config';
import { DatabaseModule, databaseUnavailableProblem, ReadRoutingModule } from '@timeline/database';
import { HealthModule } from '@timeline/health';
import { ObservabilityModule } from '@timeline/observability';
import { ProblemDetailsFilter } from '@timeline/problems';
import { ContractModule } from './contract/contract.module';
import { EventSearchModule } from './event-search/event-search.module';
import { EventsModule } from './events/events.module';
import { RateLimitGuard } from './http/rate-limit.guard';
import { ApiTimelineReach } from './http/timeline-reach';
import { ApiMetrics } from './observability/api-metrics';
import { OpsModule } from './ops/ops.module';
import { ReadRoutingMetrics } from './read-routing/read-routing-metrics';
import { RedactionsModule } from './redactions/redactions.module';
import { StreamModule } from './stream/stream.module';
import { TimelinesModule } from './timelines/timelines.module';
import { WritePathModule } from './write-path/write-path.module';

@Module({
  imports: [
    CqrsModule.forRoot(),
    AuthModule,
    DatabaseModule,
    ReadRoutingModule,
    CommandLogModule,
    HealthModule.forRoot(),
    TimelinesModule,
    EventsModule,
    RedactionsModule,
    EventSearchModule,
    WritePathModule,
    StreamModule,
    ContractModule,
    OpsModule,
  ],
  providers: [
    { provide: APP_FILTER, useValue: new ProblemDetailsFilter([databaseUnavailableProblem]) },
    // Access first: the rate limits count per token subject, which it establishes.
    { provide: APP_GUARD, useClass: AccessGuard },
    { provide: APP_GUARD, useClass: RateLimitGuard },
    { provide: TimelineReachResolver, useClass: ApiTimelineReach },
    ReadRoutingMetrics,
  ],
})
export class ApiModule {
  static forRoot(config: TimelineConfig): DynamicModule {
    return { module: ApiModule, imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(config, 'api', ApiMetrics)] };
  }
}
