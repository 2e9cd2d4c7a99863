import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { OutboxRelay } from './outbox-relay';

/** The outbox relay: timeline.events from the outbox rows the projector writes. */
@Module({
  imports: [DatabaseModule],
  providers: [OutboxRelay],
  exports: [OutboxRelay],
})
export class RelayModule {}
