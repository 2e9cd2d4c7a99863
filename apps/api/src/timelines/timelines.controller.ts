import { Body, Controller, Get, Headers, Param, Post, Put, Query, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { timelineDataSchema } from '@timeline/domain';
import { parseOrThrow } from '@timeline/problems';
import type { FastifyReply } from 'fastify';
import { send } from '../commands/decision-answer';
import { parseTimelineId } from '../http/path-params';
import { writeHeaders } from '../http/request-headers';
import { CreateTimeline, RecordEvent } from './timeline.commands';
import { GetTimeline, ListTimelines } from './timeline.queries';
import { listQuerySchema, recordEventBodySchema } from './timelines.schemas';

type RequestHeaders = Record<string, string | undefined>;

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
    const command = new CreateTimeline(parseTimelineId(rawTimelineId), parseOrThrow(timelineDataSchema, body, 'body'), writeHeaders(headers));
    return send(reply, await this.commandBus.execute(command));
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
    const command = new RecordEvent(parseTimelineId(rawTimelineId), parseOrThrow(recordEventBodySchema, body, 'body'), body, writeHeaders(headers));
    return send(reply, await this.commandBus.execute(command));
  }
}
