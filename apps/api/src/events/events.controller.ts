import { Body, Controller, Get, Headers, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { eventChangesSchema, reasonSchema as reason } from '@timeline/domain';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { answerFor, eventAnswer, send } from '../commands/decision-answer';
import { SubmitTimelineCommand } from '../commands/submit-command';
import { parseEventId } from '../http/path-params';
import { parseOrThrow } from '@timeline/problems';
import { writePreconditions } from '../http/request-headers';
import { FindEventTimeline, GetEvent, GetEventRevisions } from './event.queries';

type RequestHeaders = Record<string, string | undefined>;

const expectedRevision = z.number().int().positive().optional();
export const reviseBodySchema = z.strictObject({ changes: eventChangesSchema, reason, expectedRevision });
export const retractBodySchema = z.strictObject({ reason, expectedRevision });

@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get(':eventId')
  getEvent(@Param('eventId') eventId: string) {
    return this.queryBus.execute(new GetEvent(parseEventId(eventId)));
  }

  @Get(':eventId/revisions')
  getRevisions(@Param('eventId') eventId: string) {
    return this.queryBus.execute(new GetEventRevisions(parseEventId(eventId)));
  }

  @Post(':eventId/revisions')
  async reviseEvent(
    @Param('eventId') rawEventId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const eventId = parseEventId(rawEventId);
    const revision = parseOrThrow(reviseBodySchema, body, 'body');
    const { idempotencyKey, expectedVersion } = writePreconditions(headers);
    const timelineId = await this.queryBus.execute(new FindEventTimeline(eventId));
    const submission = await this.commandBus.execute(
      new SubmitTimelineCommand({
        timelineId,
        idempotencyKey,
        request: { route: 'POST revision', eventId, body, expectedVersion },
        traceparent: headers.traceparent,
        draft: () => ({ type: 'ReviseEvent', timelineId, eventId, expectedVersion, ...revision }),
      }),
    );
    return send(reply, answerFor(submission, eventAnswer(200)));
  }

  @Post(':eventId/retraction')
  async retractEvent(
    @Param('eventId') rawEventId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const eventId = parseEventId(rawEventId);
    const retraction = parseOrThrow(retractBodySchema, body, 'body');
    const { idempotencyKey, expectedVersion } = writePreconditions(headers);
    const timelineId = await this.queryBus.execute(new FindEventTimeline(eventId));
    const submission = await this.commandBus.execute(
      new SubmitTimelineCommand({
        timelineId,
        idempotencyKey,
        request: { route: 'POST retraction', eventId, body, expectedVersion },
        traceparent: headers.traceparent,
        draft: () => ({ type: 'RetractEvent', timelineId, eventId, expectedVersion, ...retraction }),
      }),
    );
    return send(reply, answerFor(submission, eventAnswer(200)));
  }
}
