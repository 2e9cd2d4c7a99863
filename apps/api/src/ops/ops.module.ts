import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { ProjectionLag } from '@timeline/observability';
import { CommandsModule } from '../commands/commands.module';
import { StreamModule } from '../stream/stream.module';
import { OpsController } from './ops.controller';
import { OpsStatusService } from './ops-status';

/** The ops page and its status endpoint. */
@Module({
  imports: [DatabaseModule, StreamModule, CommandsModule],
  controllers: [OpsController],
  providers: [
    ProjectionLag,
    OpsStatusService,
  ],
})
export class OpsModule {}
