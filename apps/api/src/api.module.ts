import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { CommandLogModule } from '@timeline/command-log';
import { ConfigModule, type TimelineConfig } from '@timeline/config';
import { DatabaseModule } from '@timeline/database';
import { HealthModule } from '@timeline/health';
import { ObservabilityModule } from '@timeline/observability';
import { CommandSubmissionService } from './commands/command-submission.service';
import { CommandsController, GetCommandStatusHandler } from './commands/command-status';
import { DecisionWaiters } from './commands/decision-waiters';
import { RetractEventHandler, ReviseEventHandler } from './events/event.commands';
import { FindEventTimelineHandler, GetEventHandler, GetEventRevisionsHandler } from './events/event.queries';
import { EventsController } from './events/events.controller';
import { ProblemDetailsFilter } from '@timeline/problems';
import { EventSearchController } from './event-search/event-search.controller';
import { SearchEventsHandler, TimelineHistogramHandler } from './event-search/event-search.queries';
import { CreateTimelineHandler, RecordEventHandler } from './timelines/timeline.commands';
import { GetTimelineHandler, ListTimelinesHandler } from './timelines/timeline.queries';
import { TimelinesController } from './timelines/timelines.controller';
import { ContractModule } from './contract/contract.module';
import { OpenApiController } from './contract/openapi.controller';
import { StreamModule } from './stream/stream.module';
import { OpsModule } from './ops/ops.module';

@Module({
  imports: [CqrsModule.forRoot(), DatabaseModule, CommandLogModule, HealthModule.forRoot(), StreamModule, ContractModule, OpsModule],
  controllers: [TimelinesController, EventsController, CommandsController, EventSearchController, OpenApiController],
  providers: [
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    DecisionWaiters,
    CommandSubmissionService,
    CreateTimelineHandler,
    RecordEventHandler,
    ReviseEventHandler,
    RetractEventHandler,
    GetTimelineHandler,
    ListTimelinesHandler,
    SearchEventsHandler,
    TimelineHistogramHandler,
    GetEventHandler,
    GetEventRevisionsHandler,
    FindEventTimelineHandler,
    GetCommandStatusHandler,
  ],
})
export class ApiModule {
  static forRoot(config: TimelineConfig): DynamicModule {
    return { module: ApiModule, imports: [ConfigModule.forRoot(config), ObservabilityModule.forRoot(config, 'api')] };
  }
}
