import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { parseTimelineId } from '../http/path-params';
import { parseOrThrow } from '@timeline/problems';
import { GetTimeline } from '../timelines/timeline.queries';
import { eventSearchParamsSchema, type EventSearchParams } from './event-search.params';
import { SearchEvents, TimelineHistogram, type EventSearchPage } from './event-search.queries';
import { acceptedLanguages, localize } from './localization';
import { histogramParamsSchema } from './event-search.schemas';
import { TIMELINEJS_MEDIA_TYPE, toTimelineJs } from './timelinejs';

type RequestHeaders = Record<string, string | undefined>;

@Controller('v1')
export class EventSearchController {
  constructor(private readonly queryBus: QueryBus) {}

  /** Events across every timeline. */
  @RequiresScope('timelines:read')
  @Get('events')
  async searchAll(@Query() query: Record<string, unknown>, @Headers() headers: RequestHeaders, @Res({ passthrough: true }) reply: FastifyReply) {
    const params = parseOrThrow(eventSearchParamsSchema, query, 'query');
    const page = await this.queryBus.execute(new SearchEvents(params));
    return this.present(page, params, headers, reply);
  }

  /** A timeline's events: current, or as known at `knownAt`, filtered, searched, paged. */
  @RequiresScope('timelines:read')
  @Get('timelines/:timelineId/events')
  async searchTimeline(
    @Param('timelineId') rawTimelineId: string,
    @Query() query: Record<string, unknown>,
    @Headers() headers: RequestHeaders,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const timelineId = parseTimelineId(rawTimelineId);
    const params = parseOrThrow(eventSearchParamsSchema, query, 'query');
    const page = await this.queryBus.execute(new SearchEvents(params, timelineId));
    if (params.format === 'timelinejs' || headers.accept?.includes(TIMELINEJS_MEDIA_TYPE)) {
      const timeline = await this.queryBus.execute(new GetTimeline(timelineId));
      const preferred = preferredLanguages(params, headers);
      void reply.header('content-type', TIMELINEJS_MEDIA_TYPE).header('vary', 'Accept, Accept-Language');
      if (page.nextCursor) void reply.header('link', `<?cursor=${page.nextCursor}&format=timelinejs>; rel="next"`);
      return toTimelineJs(
        page.events.map((event) => localize(event, preferred)),
        timeline,
      );
    }
    return this.present(page, params, headers, reply);
  }

  @RequiresScope('timelines:read')
  @Get('timelines/:timelineId/histogram')
  histogram(@Param('timelineId') rawTimelineId: string, @Query() query: Record<string, unknown>) {
    const { by, ...rest } = query;
    const { by: period } = parseOrThrow(histogramParamsSchema, { by }, 'query');
    const params = parseOrThrow(eventSearchParamsSchema, rest, 'query');
    return this.queryBus.execute(new TimelineHistogram(parseTimelineId(rawTimelineId), period, params));
  }

  private present(page: EventSearchPage, params: EventSearchParams, headers: RequestHeaders, reply: FastifyReply) {
    void reply.header('vary', 'Accept, Accept-Language');
    const preferred = preferredLanguages(params, headers);
    return { ...page, events: page.events.map((event) => localize(event, preferred)) };
  }
}

/** `lang=` wins over `Accept-Language`; with neither, events keep their own language. */
function preferredLanguages(params: EventSearchParams, headers: RequestHeaders): string[] {
  return params.lang ? [params.lang] : acceptedLanguages(headers['accept-language']);
}
