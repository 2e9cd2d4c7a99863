import { Module } from '@nestjs/common';
import { OutboxRepository } from '@timeline/database';
import { Pool } from 'pg';
import { StreamController } from './stream.controller';
import { StreamFeed } from './stream-feed';

/** `GET /v1/stream`: accepted changes live over Server-Sent Events. */
@Module({
  controllers: [StreamController],
  providers: [{ provide: OutboxRepository, inject: [Pool], useFactory: (pool: Pool) => new OutboxRepository(pool) }, StreamFeed],
  // The ops status shows how many clients are connected.
  exports: [StreamFeed],
})
export class StreamModule {}
