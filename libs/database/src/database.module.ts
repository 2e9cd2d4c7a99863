import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { Pool } from 'pg';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { DecisionRepository } from './decision.repository';
import { EventQueryRepository } from './event-query.repository';
import { ensureDatabase, runMigrations } from './migrations';
import { OperationsRepository } from './operations.repository';
import { OpsStatusRepository } from './ops-status.repository';
import { OutboxRepository } from './outbox.repository';
import { createPool } from './pool';
import { ProjectionRepository } from './projection.repository';
import { ReadModelSwitchRepository } from './read-model-switch.repository';
import { TimelineReadRepository } from './timeline-read.repository';

const REPOSITORIES = [
  ConsumerOffsetsRepository,
  DecisionRepository,
  EventQueryRepository,
  OperationsRepository,
  OpsStatusRepository,
  OutboxRepository,
  ProjectionRepository,
  ReadModelSwitchRepository,
  TimelineReadRepository,
];

/**
 * The pool, after the database exists and the migrations have run, and every
 * repository on it. Not global: each module that reads or writes PostgreSQL
 * imports it, so that its imports say so; Nest still makes one instance per app.
 */
@Module({
  providers: [
    {
      provide: Pool,
      inject: [TimelineConfig],
      useFactory: async (config: TimelineConfig): Promise<Pool> => {
        await ensureDatabase(config.database.url);
        const pool = createPool({ ...config.database, applicationName: config.kafka.clientId });
        const applied = await runMigrations(pool, config.database.schema);
        if (applied.length) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
        return pool;
      },
    },
    ...REPOSITORIES,
  ],
  exports: [Pool, ...REPOSITORIES],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
