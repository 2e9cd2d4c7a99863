import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { Pool } from 'pg';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { DecisionRepository } from './decision.repository';
import { EventQueryRepository } from './event-query.repository';
import { ensureDatabase, runMigrations } from './migrations';
import { createPool } from './pool';
import { ProjectionRepository } from './projection.repository';
import { TimelineReadRepository } from './timeline-read.repository';

/** The pool, after the database exists and the migrations have run, and the repositories on it. */
@Global()
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
    { provide: ProjectionRepository, inject: [Pool], useFactory: (pool: Pool) => new ProjectionRepository(pool) },
    { provide: ConsumerOffsetsRepository, inject: [Pool], useFactory: (pool: Pool) => new ConsumerOffsetsRepository(pool) },
    { provide: DecisionRepository, inject: [Pool], useFactory: (pool: Pool) => new DecisionRepository(pool) },
    { provide: TimelineReadRepository, inject: [Pool], useFactory: (pool: Pool) => new TimelineReadRepository(pool) },
    { provide: EventQueryRepository, inject: [Pool], useFactory: (pool: Pool) => new EventQueryRepository(pool) },
  ],
  exports: [Pool, ProjectionRepository, ConsumerOffsetsRepository, DecisionRepository, TimelineReadRepository, EventQueryRepository],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
