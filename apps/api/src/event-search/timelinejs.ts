import { parsePartialDate, type AsJson, type EventState } from '@timeline/domain';
import type { LocalizedEvent } from './localization';

export const TIMELINEJS_MEDIA_TYPE = 'application/vnd.timelinejs+json';

/** Knight Lab TimelineJS 3 JSON: https://timeline.knightlab.com/docs/json-format.html */
export interface TimelineJsDate {
  year: number;
  month?: number;
  day?: number;
}

export interface TimelineJsDocument {
  title?: { text: { headline: string; text: string } };
  events: {
    unique_id: string;
    start_date: TimelineJsDate;
    end_date?: TimelineJsDate;
    display_date: string;
    text: { headline: string; text: string };
    group: string;
  }[];
}

/** `2023-07` → {year: 2023, month: 7}: TimelineJS shows only the fields a partial date has. */
export function timelineJsDate(partial: string): TimelineJsDate {
  const [year, month, day] = partial.split('-').map(Number);
  return { year, ...(month ? { month } : {}), ...(day ? { day } : {}) };
}

export function toTimelineJs(events: (AsJson<EventState> | LocalizedEvent)[], title?: { title: string; description: string }): TimelineJsDocument {
  return {
    ...(title ? { title: { text: { headline: escapeHtml(title.title), text: escapeHtml(title.description) } } } : {}),
    events: events.map((event) => {
      const [start, end] = event.validTime.split('/');
      // A single partial date spans its own precision; a range ends at its second part.
      const endDate = end && parsePartialDate(end) ? timelineJsDate(end) : undefined;
      return {
        unique_id: event.eventId,
        start_date: timelineJsDate(start),
        ...(endDate ? { end_date: endDate } : {}),
        display_date: event.validTime,
        text: { headline: escapeHtml(event.title), text: escapeHtml(event.summary) },
        group: event.kind,
      };
    }),
  };
}

/** TimelineJS renders `text` as HTML; our texts are plain. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
