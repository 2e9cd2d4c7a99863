import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadRouter, type HistogramBucket, type ReadModels, type TimelineValidator, type WalPosition } from '@timeline/database';
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
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(SearchEvents)
export class SearchEventsHandler implements IQueryHandler<SearchEvents, SearchedEventPage> {
  constructor(
    private readonly reads: ReadRouter,
    private readonly cursors: CursorSigner,
  ) {}

  async execute({ params, timelineId, atLeast }: SearchEvents): Promise<SearchedEventPage> {
    const filter = filterOf(params, timelineId);
    const hash = queryHash({ filter, order: params.order, knownAt: params.knownAt ?? null });
    const cursor = params.cursor ? decodeSearchCursor(this.cursors, params.cursor, hash) : null;
    // One more than asked tells whether there is a next page. Without a known time, the database's now is read at.
    const {
      knownAt,
      timelineExists,
      validator,
      events: found,
    } = await this.reads.read(atLeast, (models) =>
      models.events.findEvents({
        ...filter,
        knownAt: cursor?.knownAt ?? params.knownAt,
        order: params.order,
        limit: params.limit + 1,
        after: cursor?.after,
      }),
    );
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
  constructor(
    readonly timelineId: string,
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(GetTimelineValidator)
export class GetTimelineValidatorHandler implements IQueryHandler<GetTimelineValidator, TimelineValidator | null> {
  constructor(private readonly reads: ReadRouter) {}

  execute({ timelineId, atLeast }: GetTimelineValidator): Promise<TimelineValidator | null> {
    return this.reads.read(atLeast, (models) => models.events.timelineValidator(timelineId));
  }
}

export class TimelineHistogram extends Query<{ timelineId: string; by: 'year' | 'month'; knownAt: string; buckets: HistogramBucket[] }> {
  constructor(
    readonly timelineId: string,
    readonly by: 'year' | 'month',
    readonly params: EventSearchParams,
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(TimelineHistogram)
export class TimelineHistogramHandler implements IQueryHandler<TimelineHistogram> {
  constructor(private readonly reads: ReadRouter) {}

  /** Its three statements on one server, so that "now" and the counts come from the same copy. */
  execute({ timelineId, by, params, atLeast }: TimelineHistogram) {
    return this.reads.read(atLeast, async ({ events, timelines }: ReadModels) => {
      if (!(await timelines.findTimeline(timelineId))) throw timelineNotFound(timelineId);
      const knownAt = params.knownAt ?? (await events.now());
      const buckets = await events.histogram({ ...filterOf(params, timelineId), knownAt }, by);
      return { timelineId, by, knownAt, buckets };
    });
  }
}

const timelineNotFound = (timelineId: string) => new Problem('timeline-not-found', `timeline ${timelineId} does not exist`);
