import { Module } from '@nestjs/common';
import { DatabaseModule, ReadRoutingModule } from '@timeline/database';
import { EventSearchController } from './event-search.controller';
import { CursorsModule } from '../http/cursors.module';
import { GetTimelineValidatorHandler, SearchEventsHandler, TimelineHistogramHandler } from './event-search.queries';

/** `GET /v1/events`, `GET /v1/timelines/{timelineId}/events` and its histogram: events by time, facets and text. */
@Module({
  imports: [DatabaseModule, ReadRoutingModule, CursorsModule],
  controllers: [EventSearchController],
  providers: [SearchEventsHandler, GetTimelineValidatorHandler, TimelineHistogramHandler],
})
export class EventSearchModule {}
