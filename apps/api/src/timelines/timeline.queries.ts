import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TimelineReadRepository, type TimelineSummary } from '@timeline/database';
import { Problem } from '@timeline/problems';

export class GetTimeline extends Query<TimelineSummary> {
  constructor(readonly timelineId: string) {
    super();
  }
}

@QueryHandler(GetTimeline)
export class GetTimelineHandler implements IQueryHandler<GetTimeline, TimelineSummary> {
  constructor(private readonly timelines: TimelineReadRepository) {}

  async execute({ timelineId }: GetTimeline): Promise<TimelineSummary> {
    const timeline = await this.timelines.findTimeline(timelineId);
    if (!timeline) throw new Problem('timeline-not-found', `timeline ${timelineId} does not exist`);
    return timeline;
  }
}

export interface TimelinePage {
  timelines: TimelineSummary[];
  nextCursor: string | null;
}

export class ListTimelines extends Query<TimelinePage> {
  constructor(
    readonly limit: number,
    readonly cursor: string | undefined,
  ) {
    super();
  }
}

@QueryHandler(ListTimelines)
export class ListTimelinesHandler implements IQueryHandler<ListTimelines, TimelinePage> {
  constructor(private readonly timelines: TimelineReadRepository) {}

  async execute({ limit, cursor }: ListTimelines): Promise<TimelinePage> {
    const after = cursor === undefined ? undefined : Buffer.from(cursor, 'base64url').toString('utf8');
    if (after !== undefined && !/^[a-z0-9-]{1,100}$/.test(after)) {
      throw Problem.invalid([{ field: 'query.cursor', message: 'is not a cursor this service gave out' }]);
    }
    const found = await this.timelines.listTimelines({ after, limit: limit + 1 });
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return {
      timelines: page,
      nextCursor: found.length > limit && last ? Buffer.from(last.timelineId).toString('base64url') : null,
    };
  }
}
