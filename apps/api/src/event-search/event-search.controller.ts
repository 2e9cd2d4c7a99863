import { Controller, Get, Headers, Param, Query, Res } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply } from 'fastify';
import { consistencyTokenOf, CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import { parseTimelineId } from '../http/path-params';
import { parseOrThrow } from '@timeline/problems';
import { GetTimeline } from '../timelines/timeline.queries';
import { eventSearchParamsSchema, type EventSearchParams } from './event-search.params';
import { GetTimelineValidator, SearchEvents, TimelineHistogram, type EventSearchPage } from './event-search.queries';
import { ifNoneMatchNames, timelinePageEtag, type TimelinePageRequest } from './page-etag';
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
    const { page } = await this.queryBus.execute(new SearchEvents(params, undefined, consistencyTokenOf(headers[CONSISTENCY_TOKEN_HEADER])));
    void reply.header('vary', 'Accept, Accept-Language');
    return this.present(page, preferredLanguages(params, headers));
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
    const atLeast = consistencyTokenOf(headers[CONSISTENCY_TOKEN_HEADER]);
    const request: TimelinePageRequest = {
      timelineId,
      params,
      timelineJs: params.format === 'timelinejs' || headers.accept?.includes(TIMELINEJS_MEDIA_TYPE) === true,
      languages: preferredLanguages(params, headers),
    };
    // A client may keep a page but must ask again before using it: a 304 then costs one small read.
    void reply.header('vary', 'Accept, Accept-Language').header('cache-control', 'private, no-cache');
    const ifNoneMatch = headers['if-none-match'];
    if (ifNoneMatch !== undefined) {
      // With the caller's token, read where its earlier writes are: their versions are in it, so a 304 never hides them.
      const validator = await this.queryBus.execute(new GetTimelineValidator(timelineId, atLeast));
      const etag = validator && timelinePageEtag(request, validator);
      if (etag && ifNoneMatchNames(ifNoneMatch, etag)) {
        void reply.status(304).header('etag', etag);
        return undefined;
      }
    }
    const { page, validator } = await this.queryBus.execute(new SearchEvents(params, timelineId, atLeast));
    // The validator read with the page, in its snapshot: the tag never names a state older than the events sent.
    if (validator) void reply.header('etag', timelinePageEtag(request, validator));
    if (request.timelineJs) {
      const timeline = await this.queryBus.execute(new GetTimeline(timelineId, atLeast));
      void reply.header('content-type', TIMELINEJS_MEDIA_TYPE);
      if (page.nextCursor) void reply.header('link', `<?cursor=${page.nextCursor}&format=timelinejs>; rel="next"`);
      return toTimelineJs(
        page.events.map((event) => localize(event, request.languages)),
        timeline,
      );
    }
    return this.present(page, request.languages);
  }

  @RequiresScope('timelines:read')
  @Get('timelines/:timelineId/histogram')
  histogram(@Param('timelineId') rawTimelineId: string, @Query() query: Record<string, unknown>, @Headers(CONSISTENCY_TOKEN_HEADER) token?: string) {
    const { by, ...rest } = query;
    const { by: period } = parseOrThrow(histogramParamsSchema, { by }, 'query');
    const params = parseOrThrow(eventSearchParamsSchema, rest, 'query');
    return this.queryBus.execute(new TimelineHistogram(parseTimelineId(rawTimelineId), period, params, consistencyTokenOf(token)));
  }

  private present(page: EventSearchPage, languages: string[]) {
    return { ...page, events: page.events.map((event) => localize(event, languages)) };
  }
}

/** `lang=` wins over `Accept-Language`; with neither, events keep their own language. */
function preferredLanguages(params: EventSearchParams, headers: RequestHeaders): string[] {
  return params.lang ? [params.lang] : acceptedLanguages(headers['accept-language']);
}
