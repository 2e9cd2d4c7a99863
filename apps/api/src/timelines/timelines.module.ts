import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { CommandsModule } from '../commands/commands.module';
import { CursorsModule } from '../http/cursors.module';
import { CreateTimelineHandler, RecordEventBatchHandler, RecordEventHandler } from './timeline.commands';
import { GetTimelineHandler, ListTimelinesHandler } from './timeline.queries';
import { TimelinesController } from './timelines.controller';

/** `/v1/timelines`: create, list and get timelines; record events on them, one by one or in batches. */
@Module({
  imports: [DatabaseModule, CommandsModule, CursorsModule],
  controllers: [TimelinesController],
  providers: [CreateTimelineHandler, RecordEventHandler, RecordEventBatchHandler, GetTimelineHandler, ListTimelinesHandler],
})
export class TimelinesModule {}
