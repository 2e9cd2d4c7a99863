import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ReadRouter, TimelineReadRepository, type EventRevisionRecord, type WalPosition } from '@timeline/database';
import type { AsJson, EventState } from '@timeline/domain';
import { Problem } from '@timeline/problems';

const eventNotFound = (eventId: string) => new Problem('event-not-found', `event ${eventId} does not exist`);

export class GetEvent extends Query<AsJson<EventState>> {
  constructor(
    readonly eventId: string,
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(GetEvent)
export class GetEventHandler implements IQueryHandler<GetEvent, AsJson<EventState>> {
  constructor(private readonly reads: ReadRouter) {}

  async execute({ eventId, atLeast }: GetEvent): Promise<AsJson<EventState>> {
    const event = await this.reads.read(atLeast, (models) => models.timelines.findEvent(eventId));
    if (!event) throw eventNotFound(eventId);
    return event;
  }
}

export class GetEventRevisions extends Query<{ eventId: string; revisions: EventRevisionRecord[] }> {
  constructor(
    readonly eventId: string,
    readonly atLeast?: WalPosition,
  ) {
    super();
  }
}

@QueryHandler(GetEventRevisions)
export class GetEventRevisionsHandler implements IQueryHandler<GetEventRevisions> {
  constructor(private readonly reads: ReadRouter) {}

  async execute({ eventId, atLeast }: GetEventRevisions) {
    const revisions = await this.reads.read(atLeast, (models) => models.timelines.listRevisions(eventId));
    if (revisions.length === 0) throw eventNotFound(eventId);
    return { eventId, revisions };
  }
}

/** The timeline an event lives in: its revisions are appended under that key. Part of a write: read on the primary. */
export class FindEventTimeline extends Query<string> {
  constructor(readonly eventId: string) {
    super();
  }
}

@QueryHandler(FindEventTimeline)
export class FindEventTimelineHandler implements IQueryHandler<FindEventTimeline, string> {
  constructor(private readonly timelines: TimelineReadRepository) {}

  async execute({ eventId }: FindEventTimeline): Promise<string> {
    const timelineId = await this.timelines.findEventTimeline(eventId);
    if (!timelineId) throw eventNotFound(eventId);
    return timelineId;
  }
}
