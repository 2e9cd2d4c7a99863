import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadRouter, type TimelineSummary, type WalPosition } from '@timeline/database';
import { Problem } from '@timeline/problems';
import { CursorSigner } from '../http/cursor-signer';

export class GetTimeline extends Query<TimelineSummary> {
  constructor(
    readonly timelineId: string,
    /** The caller's consistency token: the answer reflects the read models at this WAL position at least. */
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(GetTimeline)
export class GetTimelineHandler implements IQueryHandler<GetTimeline, TimelineSummary> {
  constructor(private readonly reads: ReadRouter) {}

  async execute({ timelineId, atLeast }: GetTimeline): Promise<TimelineSummary> {
    const timeline = await this.reads.read(atLeast, (models) => models.timelines.findTimeline(timelineId));
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
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(ListTimelines)
export class ListTimelinesHandler implements IQueryHandler<ListTimelines, TimelinePage> {
  constructor(
    private readonly reads: ReadRouter,
    private readonly cursors: CursorSigner,
  ) {}

  async execute({ limit, cursor, atLeast }: ListTimelines): Promise<TimelinePage> {
    const after = cursor === undefined ? undefined : this.lastTimelineOf(cursor);
    const found = await this.reads.read(atLeast, (models) => models.timelines.listTimelines({ after, limit: limit + 1 }));
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return {
      timelines: page,
      nextCursor: found.length > limit && last ? this.cursors.sign(last.timelineId) : null,
    };
  }

  /** The id of the last timeline of the page a cursor follows; a 400 for a cursor this service did not give out. */
  private lastTimelineOf(cursor: string): string {
    const payload = this.cursors.verify(cursor)?.payload;
    if (typeof payload === 'string' && /^[a-z0-9-]{1,100}$/.test(payload)) return payload;
    throw Problem.invalid([{ field: 'query.cursor', message: 'is not a cursor this service gave out' }]);
  }
}
