import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TimelineReadRepository, type EventPosition, type TimelineSummary } from '@timeline/database';
import type { EventState } from '@timeline/domain';
import { Problem } from '../http/problem';

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
    if (!timeline) throw new Problem('timeline-not-found', 404, `timeline ${timelineId} does not exist`);
    return timeline;
  }
}

export interface EventPage {
  events: EventState[];
  nextCursor: string | null;
}

export class ListTimelineEvents extends Query<EventPage> {
  constructor(
    readonly timelineId: string,
    readonly limit: number,
    readonly cursor: string | undefined,
  ) {
    super();
  }
}

@QueryHandler(ListTimelineEvents)
export class ListTimelineEventsHandler implements IQueryHandler<ListTimelineEvents, EventPage> {
  constructor(private readonly timelines: TimelineReadRepository) {}

  async execute({ timelineId, limit, cursor }: ListTimelineEvents): Promise<EventPage> {
    const after = cursor === undefined ? null : decodeCursor(cursor, timelineId);
    if (!(await this.timelines.findTimeline(timelineId))) {
      throw new Problem('timeline-not-found', 404, `timeline ${timelineId} does not exist`);
    }
    // One row more than asked tells whether there is a next page.
    const rows = await this.timelines.listTimelineEvents(timelineId, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      events: page.map((row) => row.event),
      nextCursor: rows.length > limit && last ? encodeCursor(timelineId, last.position) : null,
    };
  }
}

/** Cursors are opaque to callers: base64url JSON of the keyset position and the timeline it belongs to. */
export function encodeCursor(timelineId: string, position: EventPosition): string {
  return Buffer.from(JSON.stringify({ t: timelineId, l: position.validLower, e: position.eventId })).toString('base64url');
}

export function decodeCursor(cursor: string, timelineId: string): EventPosition {
  const invalid = () => Problem.invalid([{ field: 'query.cursor', message: 'is not a cursor of this timeline\'s events' }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { t, l, e } = (decoded ?? {}) as Record<string, unknown>;
  const isDay = typeof l === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(l);
  const isUuid = typeof e === 'string' && /^[0-9a-f-]{36}$/.test(e);
  if (t !== timelineId || !isDay || !isUuid) throw invalid();
  return { validLower: l, eventId: e };
}
