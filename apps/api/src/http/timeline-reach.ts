import { Injectable } from '@nestjs/common';
import type { TimelineReach, TimelineReachResolver } from '@timeline/auth';
import { DecisionRepository, TimelineReadRepository } from '@timeline/database';
import type { FastifyRequest } from 'fastify';

/**
 * Which timelines a request touches, for a token narrowed to some (docs/access.md): the path's timeline;
 * an event's or a decided command's timeline, looked up; a stream's `timelineId` filter. Anything else
 * (the timeline list, a search across timelines, an unfiltered stream) reaches every timeline. An event or
 * command that is not found reaches none, so the handler answers it (404, or `pending`) as for anyone.
 */
@Injectable()
export class ApiTimelineReach implements TimelineReachResolver {
  constructor(
    private readonly timelines: TimelineReadRepository,
    private readonly decisions: DecisionRepository,
  ) {}

  async reachOf(request: FastifyRequest): Promise<TimelineReach> {
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const query = (request.query ?? {}) as Record<string, unknown>;
    if (params.timelineId !== undefined) return { timelines: [params.timelineId] };
    // A lookup that fails (an id of the wrong shape, the database away) reaches none: the handler answers it as it would anyone.
    if (params.eventId !== undefined) return timelinesOf(await this.timelines.findEventTimeline(params.eventId).catch(() => null));
    if (params.commandId !== undefined) {
      const [decision] = await this.decisions.findByCommandIds([params.commandId]).catch(() => []);
      return timelinesOf(decision?.timelineId ?? null);
    }
    if (typeof query.timelineId === 'string') return { timelines: [query.timelineId] };
    return 'all';
  }
}

const timelinesOf = (timelineId: string | null): TimelineReach => ({ timelines: timelineId === null ? [] : [timelineId] });
