import type { TimelineState } from '@timeline/domain';

/** A row of the timelines table, keyed by column name. */
export interface TimelineRow {
  timeline_id: string;
  title: string;
  description: string;
  default_language: string;
  version: number;
  event_count: number;
  /** A Date from a query's own columns; text when the row came as JSON. */
  created_at: Date | string;
  updated_at: Date | string;
}

export function toTimelineRow(timeline: TimelineState): TimelineRow {
  return {
    timeline_id: timeline.timelineId,
    title: timeline.title,
    description: timeline.description,
    default_language: timeline.defaultLanguage,
    version: timeline.version,
    event_count: timeline.eventCount,
    created_at: timeline.createdAt,
    updated_at: timeline.updatedAt,
  };
}

export function timelineFromRow(row: TimelineRow): TimelineState {
  return {
    timelineId: row.timeline_id,
    title: row.title,
    description: row.description,
    defaultLanguage: row.default_language,
    version: row.version,
    eventCount: row.event_count,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}
