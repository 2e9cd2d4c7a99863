import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { EventSearchController } from './event-search.controller';
import { CursorSigner } from '../http/cursor-signer';
import { SearchEventsHandler, TimelineHistogramHandler } from './event-search.queries';

/** `GET /v1/events`, `GET /v1/timelines/{timelineId}/events` and its histogram: events by time, facets and text. */
@Module({
  imports: [DatabaseModule],
  controllers: [EventSearchController],
  providers: [SearchEventsHandler, TimelineHistogramHandler, CursorSigner],
})
export class EventSearchModule {}
