import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { TimelineConfig } from '@timeline/config';
import { Pool } from 'pg';
import { DatabaseModule } from './database.module';
import { LsnClock } from './lsn-clock';
import { createPool } from './pool';
import { ReadRouter } from './read-router';

/**
 * Reads through the replicas of DATABASE_READ_URLS (a pool each, on the same schema) and the clock that
 * stamps writes' consistency tokens. For the api: the projector reads and writes the primary only.
 */
@Module({
  imports: [DatabaseModule],
  providers: [
    {
      provide: ReadRouter,
      inject: [TimelineConfig, Pool],
      useFactory: (config: TimelineConfig, primary: Pool) => {
        const replicaPools = config.readReplicas.urls.map((url, index) =>
          createPool({ ...config.database, url, applicationName: `${config.kafka.clientId}-reads-${index}` }),
        );
        return new ReadRouter(primary, replicaPools, config.readReplicas);
      },
    },
    LsnClock,
  ],
  exports: [ReadRouter, LsnClock],
})
export class ReadRoutingModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(ReadRouter) private readonly router: ReadRouter) {}

  onModuleInit(): void {
    this.router.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.router.stop();
  }
}
