import { randomUUID } from 'node:crypto';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { CommandDraft } from '@timeline/command-log';
import { nameBasedUuid, type TimelineData } from '@timeline/domain';
import { Problem, problemDocument } from '@timeline/problems';
import { CommandSubmissionService, commandIdFor, type Submission, type TimelineWrite } from '../write-path/command-submission.service';
import { answerFor, eventAnswer, withConsistencyToken, type Answer } from '../write-path/decision-answer';
import type { WriteHeaders } from '../http/request-headers';
import type { RecordEventBody } from './timelines.schemas';

export class CreateTimelineRequest extends Command<Answer> {
  constructor(
    readonly timelineId: string,
    readonly timeline: TimelineData,
    readonly headers: WriteHeaders,
  ) {
    super();
  }
}

@CommandHandler(CreateTimelineRequest)
export class CreateTimelineRequestHandler implements ICommandHandler<CreateTimelineRequest, Answer> {
  constructor(private readonly writes: CommandSubmissionService) {}

  async execute({ timelineId, timeline, headers }: CreateTimelineRequest): Promise<Answer> {
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

export class RecordEventRequest extends Command<Answer> {
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

@CommandHandler(RecordEventRequest)
export class RecordEventRequestHandler implements ICommandHandler<RecordEventRequest, Answer> {
  constructor(private readonly writes: CommandSubmissionService) {}

  async execute({ timelineId, recording, sentBody, headers }: RecordEventRequest): Promise<Answer> {
    const commandId = commandIdFor(timelineId, headers.idempotencyKey);
    const submission = await this.writes.submit({
      commandId,
      draft: recordEventDraft(timelineId, commandId, recording, headers.expectedVersion),
      request: { route: 'POST event', timelineId, body: sentBody },
      headers,
    });
    return answerFor(submission, eventAnswer(201));
  }
}

/** Without a given id, the command id names the event: a retried command records the same event. */
function recordEventDraft(timelineId: string, commandId: string, { eventId, ...event }: RecordEventBody, expectedVersion: number | undefined): CommandDraft {
  return { type: 'RecordEvent', timelineId, eventId: eventId ?? nameBasedUuid(`event:${commandId}`), expectedVersion, event };
}

/** Several events recorded on one timeline by one request: one RecordEvent command each. */
export class RecordEventBatchRequest extends Command<Answer> {
  constructor(
    readonly timelineId: string,
    readonly recordings: RecordEventBody[],
    /** The body as sent: every event's fingerprint is taken from all of it. */
    readonly sentBody: unknown,
    readonly headers: WriteHeaders,
  ) {
    super();
  }
}

/** Submits the batch's commands together and answers 200 with one result per event. */
@CommandHandler(RecordEventBatchRequest)
export class RecordEventBatchRequestHandler implements ICommandHandler<RecordEventBatchRequest, Answer> {
  constructor(private readonly writes: CommandSubmissionService) {}

  async execute({ timelineId, recordings, sentBody, headers }: RecordEventBatchRequest): Promise<Answer> {
    const writes = recordings.map((recording, index): TimelineWrite => {
      const commandId = batchCommandIdFor(timelineId, headers.idempotencyKey, index);
      return {
        commandId,
        draft: recordEventDraft(timelineId, commandId, recording, undefined),
        request: { route: 'POST events:batch', timelineId, body: sentBody, index },
        headers,
      };
    });
    const submissions = await this.writes.submitBatch(writes);
    const token = submissions.find((submission) => submission.state === 'decided')?.consistencyToken;
    return withConsistencyToken({ status: 200, body: { results: submissions.map(batchResult) }, headers: {} }, token);
  }
}

/** Event `index` of a batch: a retry with the same Idempotency-Key maps it to the same command, decided once. */
export function batchCommandIdFor(timelineId: string, idempotencyKey: string | undefined, index: number): string {
  // Another namespace than single writes' keys, so that no single write's key can name a batch's event.
  return idempotencyKey ? nameBasedUuid(`idempotency-batch:${timelineId}:${idempotencyKey}:${index}`) : randomUUID();
}

/** An event's result in a batch: its answer as a single write would have it, with the status inside. */
function batchResult(submission: Submission): Record<string, unknown> {
  try {
    const answer = answerFor(submission, eventAnswer(201));
    const { status: _pending, ...body } = answer.body as Record<string, unknown>;
    return { status: answer.status, ...body };
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    return { status: error.status, problem: problemDocument(error) };
  }
}
