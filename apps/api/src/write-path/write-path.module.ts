import { Module } from '@nestjs/common';
import { DatabaseModule, ReadRoutingModule } from '@timeline/database';
import { Admission } from './admission';
import { CommandSubmissionService } from './command-submission.service';
import { CommandsController, GetCommandStatusHandler } from './command-status';
import { DecisionWaiters } from './decision-waiters';

/** The write path every feature submits through, and `GET /v1/commands/{commandId}` to follow a 202. */
@Module({
  imports: [DatabaseModule, ReadRoutingModule],
  controllers: [CommandsController],
  providers: [Admission, DecisionWaiters, CommandSubmissionService, GetCommandStatusHandler],
  exports: [CommandSubmissionService, Admission],
})
export class WritePathModule {}
