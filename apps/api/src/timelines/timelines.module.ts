import { Module } from '@nestjs/common';
import { DatabaseModule, ReadRoutingModule } from '@timeline/database';
import { WritePathModule } from '../write-path/write-path.module';
import { CursorsModule } from '../http/cursors.module';
import { CreateTimelineRequestHandler, RecordEventBatchRequestHandler, RecordEventRequestHandler } from './timeline.requests';
import { GetTimelineHandler, ListTimelinesHandler } from './timeline.queries';
import { TimelinesController } from './timelines.controller';

/** `/v1/timelines`: create, list and get timelines; record events on them, one by one or in batches. */
@Module({
  imports: [DatabaseModule, ReadRoutingModule, WritePathModule, CursorsModule],
  controllers: [TimelinesController],
  providers: [CreateTimelineRequestHandler, RecordEventRequestHandler, RecordEventBatchRequestHandler, GetTimelineHandler, ListTimelinesHandler],
})
export class TimelinesModule {}
