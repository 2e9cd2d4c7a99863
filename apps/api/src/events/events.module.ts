import { Module } from '@nestjs/common';
import { DatabaseModule, ReadRoutingModule } from '@timeline/database';
import { WritePathModule } from '../write-path/write-path.module';
import { RetractEventRequestHandler, ReviseEventRequestHandler } from './event.requests';
import { FindEventTimelineHandler, GetEventHandler, GetEventRevisionsHandler } from './event.queries';
import { EventsController } from './events.controller';

/** `/v1/events/{eventId}`: read an event and its revisions; revise and retract it. */
@Module({
  imports: [DatabaseModule, ReadRoutingModule, WritePathModule],
  controllers: [EventsController],
  providers: [ReviseEventRequestHandler, RetractEventRequestHandler, GetEventHandler, GetEventRevisionsHandler, FindEventTimelineHandler],
})
export class EventsModule {}
