import { Injectable } from '@nestjs/common';
import type { AsJson, EventState, TimelineState } from '@timeline/domain';
import { Pool } from 'pg';
import { timelineFromRow, type TimelineRow } from './timeline-row';

export interface TimelineSummary extends TimelineState {
  /** First day covered by a current event, and the last; null while the timeline has none. */
  validTime: { earliest: string; latest: string } | null;
}

export interface EventRevisionRecord {
  revision: number;
  changeType: string;
  commandId: string;
  reason: string | null;
  changed: Record<string, unknown>;
  previous: Record<string, unknown>;
  knownFrom: string;
  knownTo: string | null;
  state: AsJson<EventState>;
}

@Injectable()
export class TimelineReadRepository {
  constructor(private readonly pool: Pool) {}

  async findTimeline(timelineId: string): Promise<TimelineSummary | null> {
    const [timeline] = await this.listTimelines({ timelineId, limit: 1 });
    return timeline ?? null;
  }

  /**
   * Timelines in id order with counts and valid-time bounds. The bounds are
   * two index probes per timeline (first and last day covered by a current event).
   */
  async listTimelines({ timelineId, after, limit }: { timelineId?: string; after?: string; limit: number }): Promise<TimelineSummary[]> {
    const { rows } = await this.pool.query<TimelineRow & { earliest: string | null; latest: string }>(
      `select t.timeline_id, t.title, t.description, t.default_language, t.version, t.event_count,
              t.created_at, t.updated_at,
              (select min(e.valid_lower) from events e where e.timeline_id = t.timeline_id and not e.retracted) as earliest,
              (select max(e.valid_upper) - 1 from events e where e.timeline_id = t.timeline_id and not e.retracted) as latest
       from timelines t
       where ($1::text is null or t.timeline_id = $1) and ($2::text is null or t.timeline_id > $2)
       order by t.timeline_id
       limit $3`,
      [timelineId ?? null, after ?? null, limit],
    );
    return rows.map((row) => ({
      ...timelineFromRow(row),
      validTime: row.earliest === null ? null : { earliest: row.earliest, latest: row.latest },
    }));
  }

  /** The timeline an event belongs to: the key its revisions and retraction are appended under. */
  async findEventTimeline(eventId: string): Promise<string | null> {
    const { rows } = await this.pool.query<{ timeline_id: string }>('select timeline_id from events where event_id = $1', [eventId]);
    return rows[0]?.timeline_id ?? null;
  }

  async findEvent(eventId: string): Promise<AsJson<EventState> | null> {
    const { rows } = await this.pool.query<{ state: AsJson<EventState> }>('select state from events where event_id = $1', [eventId]);
    return rows[0]?.state ?? null;
  }

  async listRevisions(eventId: string): Promise<EventRevisionRecord[]> {
    type Columns = Omit<EventRevisionRecord, 'changeType' | 'commandId' | 'knownFrom' | 'knownTo'> & {
      change_type: string;
      command_id: string;
      known_from: Date;
      known_to: Date | null;
    };
    const { rows } = await this.pool.query<Columns>(
      `select revision, change_type, command_id, reason, changed, previous, known_from, known_to, state
       from event_revisions
       where event_id = $1
       order by revision`,
      [eventId],
    );
    return rows.map((row) => ({
      revision: row.revision,
      changeType: row.change_type,
      commandId: row.command_id,
      reason: row.reason,
      changed: row.changed,
      previous: row.previous,
      knownFrom: row.known_from.toISOString(),
      knownTo: row.known_to ? row.known_to.toISOString() : null,
      state: row.state,
    }));
  }
}
