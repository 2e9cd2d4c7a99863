import { Body, Controller, Get, Headers, Param, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { eventDataSchema, nameBasedUuid, timelineDataSchema } from '@timeline/domain';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { answerFor, eventAnswer, send } from '../commands/decision-answer';
import { SubmitTimelineCommand } from '../commands/submit-command';
import { parseTimelineId } from '../http/path-params';
import { parseOrThrow } from '@timeline/problems';
import { writePreconditions } from '../http/request-headers';
import { GetTimeline, ListTimelines } from './timeline.queries';

type RequestHeaders = Record<string, string | undefined>;

export const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(200).optional(),
});
export const recordEventBodySchema = eventDataSchema.extend({ eventId: z.uuid().optional() });

@Controller('v1/timelines')
export class TimelinesController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  listTimelines(@Query() query: unknown) {
    const { limit, cursor } = parseOrThrow(listQuerySchema, query, 'query');
    return this.queryBus.execute(new ListTimelines(limit, cursor));
  }

  @Put(':timelineId')
  async createTimeline(
    @Param('timelineId') rawTimelineId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const timelineId = parseTimelineId(rawTimelineId);
    const timeline = parseOrThrow(timelineDataSchema, body, 'body');
    const { idempotencyKey, expectedVersion } = writePreconditions(headers);
    const submission = await this.commandBus.execute(
      new SubmitTimelineCommand({
        timelineId,
        idempotencyKey,
        request: { route: 'PUT timeline', timelineId, timeline, expectedVersion },
        traceparent: headers.traceparent,
        draft: () => ({ type: 'CreateTimeline', timelineId, expectedVersion, timeline }),
      }),
    );
    return send(
      reply,
      answerFor(submission, (decision) => ({
        status: decision.changed ? 201 : 200,
        body: { timelineId, ...decision.timeline, version: decision.version, commandId: decision.commandId },
        headers: { etag: `"${decision.version}"`, location: `/v1/timelines/${timelineId}` },
      })),
    );
  }

  @Get(':timelineId')
  async getTimeline(@Param('timelineId') rawTimelineId: string, @Res({ passthrough: true }) reply: FastifyReply) {
    const timeline = await this.queryBus.execute(new GetTimeline(parseTimelineId(rawTimelineId)));
    void reply.header('etag', `"${timeline.version}"`);
    return timeline;
  }

  @Post(':timelineId/events')
  async recordEvent(
    @Param('timelineId') rawTimelineId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const timelineId = parseTimelineId(rawTimelineId);
    const { eventId: givenEventId, ...event } = parseOrThrow(recordEventBodySchema, body, 'body');
    const { idempotencyKey, expectedVersion } = writePreconditions(headers);
    const submission = await this.commandBus.execute(
      new SubmitTimelineCommand({
        timelineId,
        idempotencyKey,
        request: { route: 'POST event', timelineId, body, expectedVersion },
        traceparent: headers.traceparent,
        // Without a given id, the command id names the event: a retried command records the same event.
        draft: (commandId) => ({
          type: 'RecordEvent',
          timelineId,
          eventId: givenEventId ?? nameBasedUuid(`event:${commandId}`),
          expectedVersion,
          event,
        }),
      }),
    );
    return send(reply, answerFor(submission, eventAnswer(201)));
  }
}
