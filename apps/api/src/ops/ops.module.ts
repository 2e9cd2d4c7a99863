import { Module } from '@nestjs/common';
import { ConsumerOffsetsRepository, OperationsRepository, OpsStatusRepository } from '@timeline/database';
import { Pool } from 'pg';
import { ProjectionLag } from '@timeline/observability';
import { StreamModule } from '../stream/stream.module';
import { OpsController } from './ops.controller';
import { OpsStatusService } from './ops-status';

/** The ops page and its status endpoint. */
@Module({
  imports: [StreamModule],
  controllers: [OpsController],
  providers: [
    {
      provide: OperationsRepository,
      inject: [Pool, ConsumerOffsetsRepository],
      useFactory: (pool: Pool, offsets: ConsumerOffsetsRepository) => new OperationsRepository(pool, offsets),
    },
    {
      provide: OpsStatusRepository,
      inject: [Pool, ConsumerOffsetsRepository],
      useFactory: (pool: Pool, offsets: ConsumerOffsetsRepository) => new OpsStatusRepository(pool, offsets),
    },
    ProjectionLag,
    OpsStatusService,
  ],
})
export class OpsModule {}
