import { CommandHandler, Command, type ICommandHandler } from '@nestjs/cqrs';
import { CommandSubmissionService, type Submission, type SubmissionRequest } from './command-submission.service';

/** The in-process command every write controller sends: append, then wait for the decision. */
export class SubmitTimelineCommand extends Command<Submission> {
  constructor(readonly submission: SubmissionRequest) {
    super();
  }
}

@CommandHandler(SubmitTimelineCommand)
export class SubmitTimelineCommandHandler implements ICommandHandler<SubmitTimelineCommand, Submission> {
  constructor(private readonly submissions: CommandSubmissionService) {}

  execute({ submission }: SubmitTimelineCommand): Promise<Submission> {
    return this.submissions.submit(submission);
  }
}
