import { Module } from '@nestjs/common';
import { DatabaseModule, ReadRoutingModule } from '@timeline/database';
import { ProjectionLag } from '@timeline/observability';
import { WritePathModule } from '../write-path/write-path.module';
import { StreamModule } from '../stream/stream.module';
import { OpsController } from './ops.controller';
import { OpsStatusService } from './ops-status';

/** The ops page and its status endpoint. */
@Module({
  imports: [DatabaseModule, ReadRoutingModule, StreamModule, WritePathModule],
  controllers: [OpsController],
  providers: [ProjectionLag, OpsStatusService],
})
export class OpsModule {}
