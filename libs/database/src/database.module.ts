import { Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { Pool } from 'pg';
import { ConsumerOffsetsRepository } from './consumer-offsets.repository';
import { DecisionNotifications } from './decision-notifications';
import { DecisionRepository } from './decision.repository';
import { EventQueryRepository } from './event-query.repository';
import { ensureDatabase, runMigrations } from './migrations';
import { OperationsRepository } from './operations.repository';
import { OpsStatusRepository } from './ops-status.repository';
import { OutboxRepository } from './outbox.repository';
import { OutboxSignal } from './outbox-signal';
import { createPool } from './pool';
import { ProjectionRepository } from './projection.repository';
import { ReadModelSwitchRepository } from './read-model-switch.repository';
import { RedactionRepository } from './redaction.repository';
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
  RedactionRepository,
  TimelineReadRepository,
];

/**
 * The pool, after the database exists and the migrations have run; every
 * repository on it; the process's one LISTEN connection for committed
 * decisions, and an outbox signal on it for each outbox reader. Not global:
 * each module that uses PostgreSQL imports it, so that its imports say so;
 * Nest still makes one instance of it per app.
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
    {
      provide: DecisionNotifications,
      inject: [TimelineConfig],
      useFactory: (config: TimelineConfig) => new DecisionNotifications(config.database.url),
    },
    OutboxSignal,
  ],
  exports: [Pool, ...REPOSITORIES, DecisionNotifications, OutboxSignal],
})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(Pool) private readonly pool: Pool) {}

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
