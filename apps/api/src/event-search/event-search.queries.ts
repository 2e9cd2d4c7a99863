import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventQueryRepository, TimelineReadRepository, type HistogramBucket, type TimelineValidator } from '@timeline/database';
import type { AsJson, EventState } from '@timeline/domain';
import { Problem } from '@timeline/problems';
import { filterOf, type EventSearchParams } from './event-search.params';
import { CursorSigner } from '../http/cursor-signer';
import { decodeSearchCursor, encodeSearchCursor, queryHash } from './search-cursor';

export interface EventSearchPage {
  events: AsJson<EventState>[];
  /** The known time this answer (and every page after it) reflects. */
  knownAt: string;
  nextCursor: string | null;
}

/** A page with what a page of one timeline depends on (for its ETag); null across timelines. */
export interface SearchedEventPage {
  page: EventSearchPage;
  validator: TimelineValidator | null;
}

export class SearchEvents extends Query<SearchedEventPage> {
  constructor(
    readonly params: EventSearchParams,
    readonly timelineId?: string,
  ) {
    super();
  }
}

@QueryHandler(SearchEvents)
export class SearchEventsHandler implements IQueryHandler<SearchEvents, SearchedEventPage> {
  constructor(
    private readonly events: EventQueryRepository,
    private readonly cursors: CursorSigner,
  ) {}

  async execute({ params, timelineId }: SearchEvents): Promise<SearchedEventPage> {
    const filter = filterOf(params, timelineId);
    const hash = queryHash({ filter, order: params.order, knownAt: params.knownAt ?? null });
    const cursor = params.cursor ? decodeSearchCursor(this.cursors, params.cursor, hash) : null;
    // One more than asked tells whether there is a next page. Without a known time, the database's now is read at.
    const {
      knownAt,
      timelineExists,
      validator,
      events: found,
    } = await this.events.findEvents({
      ...filter,
      knownAt: cursor?.knownAt ?? params.knownAt,
      order: params.order,
      limit: params.limit + 1,
      after: cursor?.after,
    });
    // A later page carries its timeline in the cursor's query hash: only a first page checks it.
    if (timelineExists === false && !cursor) throw timelineNotFound(timelineId!);
    const page = found.slice(0, params.limit);
    const last = page.at(-1);
    return {
      page: {
        events: page.map((row) => row.event),
        knownAt,
        nextCursor: found.length > params.limit && last ? encodeSearchCursor(this.cursors, { knownAt, after: last.keyset }, hash) : null,
      },
      validator,
    };
  }
}

/** What a timeline's pages depend on now: asked before a page, to answer `If-None-Match` without reading it. */
export class GetTimelineValidator extends Query<TimelineValidator | null> {
  constructor(readonly timelineId: string) {
    super();
  }
}

@QueryHandler(GetTimelineValidator)
export class GetTimelineValidatorHandler implements IQueryHandler<GetTimelineValidator, TimelineValidator | null> {
  constructor(private readonly events: EventQueryRepository) {}

  execute({ timelineId }: GetTimelineValidator): Promise<TimelineValidator | null> {
    return this.events.timelineValidator(timelineId);
  }
}

export class TimelineHistogram extends Query<{ timelineId: string; by: 'year' | 'month'; knownAt: string; buckets: HistogramBucket[] }> {
  constructor(
    readonly timelineId: string,
    readonly by: 'year' | 'month',
    readonly params: EventSearchParams,
  ) {
    super();
  }
}

@QueryHandler(TimelineHistogram)
export class TimelineHistogramHandler implements IQueryHandler<TimelineHistogram> {
  constructor(
    private readonly events: EventQueryRepository,
    private readonly timelines: TimelineReadRepository,
  ) {}

  async execute({ timelineId, by, params }: TimelineHistogram) {
    await assertTimelineExists(this.timelines, timelineId);
    const knownAt = params.knownAt ?? (await this.events.now());
    const buckets = await this.events.histogram({ ...filterOf(params, timelineId), knownAt }, by);
    return { timelineId, by, knownAt, buckets };
  }
}

async function assertTimelineExists(timelines: TimelineReadRepository, timelineId: string): Promise<void> {
  if (!(await timelines.findTimeline(timelineId))) throw timelineNotFound(timelineId);
}

const timelineNotFound = (timelineId: string) => new Problem('timeline-not-found', `timeline ${timelineId} does not exist`);
