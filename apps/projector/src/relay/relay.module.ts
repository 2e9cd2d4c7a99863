import { Module } from '@nestjs/common';
import { OutboxRepository } from '@timeline/database';
import { Pool } from 'pg';
import { OutboxRelay } from './outbox-relay';

/** The outbox relay: timeline.events from the outbox rows the projector writes. */
@Module({
  providers: [{ provide: OutboxRepository, inject: [Pool], useFactory: (pool: Pool) => new OutboxRepository(pool) }, OutboxRelay],
  exports: [OutboxRelay],
})
export class RelayModule {}
