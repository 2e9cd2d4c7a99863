import { Module } from '@nestjs/common';
import { OperationsRepository, OpsStatusRepository } from '@timeline/database';
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
    { provide: OperationsRepository, inject: [Pool], useFactory: (pool: Pool) => new OperationsRepository(pool) },
    { provide: OpsStatusRepository, inject: [Pool], useFactory: (pool: Pool) => new OpsStatusRepository(pool) },
    ProjectionLag,
    OpsStatusService,
  ],
})
export class OpsModule {}
