import { Module } from '@nestjs/common';
import { DatabaseModule, ReadRoutingModule } from '@timeline/database';
import { StreamController } from './stream.controller';
import { StreamFeed } from './stream-feed';

/** `GET /v1/stream`: accepted changes live over Server-Sent Events. */
@Module({
  controllers: [StreamController],
  imports: [DatabaseModule, ReadRoutingModule],
  providers: [StreamFeed],
  // The ops status shows how many clients are connected.
  exports: [StreamFeed],
})
export class StreamModule {}
