import { Module } from '@nestjs/common';
import { DatabaseModule } from '@timeline/database';
import { WritePathModule } from '../write-path/write-path.module';
import { GetRedactionHandler, RedactRequestHandler } from './redaction.requests';
import { RedactionsController } from './redactions.controller';

/** `/v1/redactions`: redact an actor id or a source URL, and follow how far it is applied (docs/redaction.md). */
@Module({
  imports: [DatabaseModule, WritePathModule],
  controllers: [RedactionsController],
  providers: [RedactRequestHandler, GetRedactionHandler],
})
export class RedactionsModule {}
