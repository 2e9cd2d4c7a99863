import { Body, Controller, Get, Headers, Param, Post, Res } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { parseOrThrow } from '@timeline/problems';
import type { FastifyReply } from 'fastify';
import { send } from '../write-path/decision-answer';
import { parseEventId } from '../http/path-params';
import { consistencyTokenOf, CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import { writeHeaders } from '../http/request-headers';
import { RetractEventRequest, ReviseEventRequest } from './event.requests';
import { GetEvent, GetEventRevisions } from './event.queries';
import { retractBodySchema, reviseBodySchema } from './events.schemas';

type RequestHeaders = Record<string, string | undefined>;

@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @RequiresScope('timelines:read')
  @Get(':eventId')
  getEvent(@Param('eventId') eventId: string, @Headers(CONSISTENCY_TOKEN_HEADER) token?: string) {
    return this.queryBus.execute(new GetEvent(parseEventId(eventId), consistencyTokenOf(token)));
  }

  @RequiresScope('timelines:read')
  @Get(':eventId/revisions')
  getRevisions(@Param('eventId') eventId: string, @Headers(CONSISTENCY_TOKEN_HEADER) token?: string) {
    return this.queryBus.execute(new GetEventRevisions(parseEventId(eventId), consistencyTokenOf(token)));
  }

  @RequiresScope('timelines:write')
  @Post(':eventId/revisions')
  async reviseEvent(
    @Param('eventId') rawEventId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const request = new ReviseEventRequest(parseEventId(rawEventId), parseOrThrow(reviseBodySchema, body, 'body'), body, writeHeaders(headers));
    return send(reply, await this.commandBus.execute(request));
  }

  @RequiresScope('timelines:write')
  @Post(':eventId/retraction')
  async retractEvent(
    @Param('eventId') rawEventId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const request = new RetractEventRequest(parseEventId(rawEventId), parseOrThrow(retractBodySchema, body, 'body'), body, writeHeaders(headers));
    return send(reply, await this.commandBus.execute(request));
  }
}
