import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, QueryBus, type ICommandHandler } from '@nestjs/cqrs';
import type { CommandDraft } from '@timeline/command-log';
import { CommandSubmissionService } from '../write-path/command-submission.service';
import { answerFor, eventAnswer, type Answer } from '../write-path/decision-answer';
import type { WriteHeaders } from '../http/request-headers';
import { FindEventTimeline } from './event.queries';
import type { RetractBody, ReviseBody } from './events.schemas';

/** A change to an event that exists: appended under its timeline, answered with the event as it left it. */
abstract class EventChangeRequest extends Command<Answer> {
  constructor(
    readonly eventId: string,
    /** The body as sent: the request's fingerprint is taken from it. */
    readonly sentBody: unknown,
    readonly headers: WriteHeaders,
  ) {
    super();
  }
}

export class ReviseEventRequest extends EventChangeRequest {
  constructor(
    eventId: string,
    readonly revision: ReviseBody,
    sentBody: unknown,
    headers: WriteHeaders,
  ) {
    super(eventId, sentBody, headers);
  }
}

export class RetractEventRequest extends EventChangeRequest {
  constructor(
    eventId: string,
    readonly retraction: RetractBody,
    sentBody: unknown,
    headers: WriteHeaders,
  ) {
    super(eventId, sentBody, headers);
  }
}

/** Finds the event's timeline, submits the draft the command makes there, and answers with the event. */
@Injectable() // for the metadata of the constructor, which the handlers below inherit
abstract class EventChangeRequestHandler<C extends EventChangeRequest> implements ICommandHandler<EventChangeRequest, Answer> {
  /** The route the request came by, in its fingerprint. */
  protected abstract readonly route: string;

  constructor(
    private readonly queryBus: QueryBus,
    private readonly writes: CommandSubmissionService,
  ) {}

  protected abstract draft(command: C, timelineId: string): CommandDraft;

  async execute(command: C): Promise<Answer> {
    const { eventId, sentBody, headers } = command;
    const timelineId = await this.queryBus.execute(new FindEventTimeline(eventId));
    const submission = await this.writes.submit({
      draft: this.draft(command, timelineId),
      request: { route: this.route, eventId, body: sentBody },
      headers,
    });
    return answerFor(submission, eventAnswer(200));
  }
}

@CommandHandler(ReviseEventRequest)
export class ReviseEventRequestHandler extends EventChangeRequestHandler<ReviseEventRequest> {
  protected readonly route = 'POST revision';

  protected draft({ eventId, revision, headers }: ReviseEventRequest, timelineId: string): CommandDraft {
    return { type: 'ReviseEvent', timelineId, eventId, expectedVersion: headers.expectedVersion, ...revision };
  }
}

@CommandHandler(RetractEventRequest)
export class RetractEventRequestHandler extends EventChangeRequestHandler<RetractEventRequest> {
  protected readonly route = 'POST retraction';

  protected draft({ eventId, retraction, headers }: RetractEventRequest, timelineId: string): CommandDraft {
    return { type: 'RetractEvent', timelineId, eventId, expectedVersion: headers.expectedVersion, ...retraction };
  }
}
