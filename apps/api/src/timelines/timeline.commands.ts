import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { nameBasedUuid, type TimelineData } from '@timeline/domain';
import { CommandSubmissionService, commandIdFor } from '../commands/command-submission.service';
import { answerFor, eventAnswer, type Answer } from '../commands/decision-answer';
import type { WriteHeaders } from '../http/request-headers';
import type { RecordEventBody } from './timelines.schemas';

export class CreateTimeline extends Command<Answer> {
  constructor(
    readonly timelineId: string,
    readonly timeline: TimelineData,
    readonly headers: WriteHeaders,
  ) {
    super();
  }
}

@CommandHandler(CreateTimeline)
export class CreateTimelineHandler implements ICommandHandler<CreateTimeline, Answer> {
  constructor(private readonly writes: CommandSubmissionService) {}

  async execute({ timelineId, timeline, headers }: CreateTimeline): Promise<Answer> {
    const submission = await this.writes.submit({
      draft: { type: 'CreateTimeline', timelineId, expectedVersion: headers.expectedVersion, timeline },
      request: { route: 'PUT timeline', timelineId, timeline },
      headers,
    });
    return answerFor(submission, (decision) => ({
      status: decision.changed ? 201 : 200,
      body: { timelineId, ...decision.timeline, version: decision.version, commandId: decision.commandId },
      headers: { etag: `"${decision.version}"`, location: `/v1/timelines/${timelineId}` },
    }));
  }
}

export class RecordEvent extends Command<Answer> {
  constructor(
    readonly timelineId: string,
    readonly recording: RecordEventBody,
    /** The body as sent: the request's fingerprint is taken from it. */
    readonly sentBody: unknown,
    readonly headers: WriteHeaders,
  ) {
    super();
  }
}

@CommandHandler(RecordEvent)
export class RecordEventHandler implements ICommandHandler<RecordEvent, Answer> {
  constructor(private readonly writes: CommandSubmissionService) {}

  async execute({ timelineId, recording, sentBody, headers }: RecordEvent): Promise<Answer> {
    const { eventId: givenEventId, ...event } = recording;
    // Without a given id, the command id names the event: a retried command records the same event.
    const commandId = commandIdFor(timelineId, headers.idempotencyKey);
    const submission = await this.writes.submit({
      commandId,
      draft: { type: 'RecordEvent', timelineId, eventId: givenEventId ?? nameBasedUuid(`event:${commandId}`), expectedVersion: headers.expectedVersion, event },
      request: { route: 'POST event', timelineId, body: sentBody },
      headers,
    });
    return answerFor(submission, eventAnswer(201));
  }
}
