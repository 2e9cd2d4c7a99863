import { Body, Controller, Get, Headers, Param, Post, Put, Query, Res } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { TimelineConfig } from '@timeline/config';
import { timelineDataSchema } from '@timeline/domain';
import { parseOrThrow, Problem } from '@timeline/problems';
import type { FastifyReply } from 'fastify';
import { send } from '../write-path/decision-answer';
import { parseTimelineId } from '../http/path-params';
import { consistencyTokenOf, CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import { writeHeaders } from '../http/request-headers';
import { CreateTimelineRequest, RecordEventRequest, RecordEventBatchRequest } from './timeline.requests';
import { GetTimeline, ListTimelines } from './timeline.queries';
import { listQuerySchema, recordEventBatchBodySchema, recordEventBodySchema } from './timelines.schemas';

type RequestHeaders = Record<string, string | undefined>;

@Controller('v1/timelines')
export class TimelinesController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
    private readonly config: TimelineConfig,
  ) {}

  @RequiresScope('timelines:read')
  @Get()
  listTimelines(@Query() query: unknown, @Headers(CONSISTENCY_TOKEN_HEADER) token?: string) {
    const { limit, cursor } = parseOrThrow(listQuerySchema, query, 'query');
    return this.queryBus.execute(new ListTimelines(limit, cursor, consistencyTokenOf(token)));
  }

  @RequiresScope('timelines:write')
  @Put(':timelineId')
  async createTimeline(
    @Param('timelineId') rawTimelineId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const request = new CreateTimelineRequest(parseTimelineId(rawTimelineId), parseOrThrow(timelineDataSchema, body, 'body'), writeHeaders(headers));
    return send(reply, await this.commandBus.execute(request));
  }

  @RequiresScope('timelines:read')
  @Get(':timelineId')
  async getTimeline(
    @Param('timelineId') rawTimelineId: string,
    @Headers(CONSISTENCY_TOKEN_HEADER) token: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const timeline = await this.queryBus.execute(new GetTimeline(parseTimelineId(rawTimelineId), consistencyTokenOf(token)));
    void reply.header('etag', `"${timeline.version}"`);
    return timeline;
  }

  @RequiresScope('timelines:write')
  @Post(':timelineId/events')
  async recordEvent(
    @Param('timelineId') rawTimelineId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const request = new RecordEventRequest(parseTimelineId(rawTimelineId), parseOrThrow(recordEventBodySchema, body, 'body'), body, writeHeaders(headers));
    return send(reply, await this.commandBus.execute(request));
  }

  // `::` is Fastify's escape for a literal `:` in a path: this is `/v1/timelines/{timelineId}/events:batch`.
  @RequiresScope('timelines:write')
  @Post(':timelineId/events::batch')
  async recordEventBatch(
    @Param('timelineId') rawTimelineId: string,
    @Body() body: unknown,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const timelineId = parseTimelineId(rawTimelineId);
    const preconditions = writeHeaders(headers);
    // A version check per event cannot hold a batch to one version: an event rejected for another reason
    // leaves the version where it was, and the next event would then pass a check meant for the batch.
    if (preconditions.expectedVersion !== undefined) {
      throw Problem.invalid([{ field: 'header.if-match', message: 'is not supported on batches: record the events one by one to check the version' }]);
    }
    this.refuseOversizedBatch(body);
    const { events } = parseOrThrow(recordEventBatchBodySchema, body, 'body');
    return send(reply, await this.commandBus.execute(new RecordEventBatchRequest(timelineId, events, body, preconditions)));
  }

  /** Counted before the events are validated, so that an oversized batch costs little. */
  private refuseOversizedBatch(body: unknown): void {
    const events = (body as { events?: unknown } | null)?.events;
    const max = this.config.admission.batchMaxEvents;
    if (Array.isArray(events) && events.length > max) {
      throw new Problem('payload-too-large', `a batch takes at most ${max} events (BATCH_MAX_EVENTS); this one has ${events.length}: split it`, {
        maxEvents: max,
      });
    }
  }
}
