import {
  eventDataSchema,
  nameBasedUuid,
  REDACTION_KINDS,
  timelineDataSchema,
  timelineIdSchema,
  validTimeTextSchema,
  valueHashSchema,
  type AsJson,
  type ChangeType,
  type TimelineChange,
} from '@timeline/domain';
import { z } from 'zod';

/**
 * Accepted changes as subscribers see them: CloudEvents 1.0 whose `data` is
 * the change's full new state plus what changed. This is a published
 * contract: add optional fields freely; anything else is a new `.vN` type.
 */

/** CloudEvents `type` of each change, versioned. */
export const CHANGE_EVENT_TYPES = {
  TimelineCreated: 'timeline.timeline.created.v1',
  EventRecorded: 'timeline.event.recorded.v1',
  EventRevised: 'timeline.event.revised.v1',
  EventRetracted: 'timeline.event.retracted.v1',
  RedactionApplied: 'timeline.redaction.applied.v1',
} as const satisfies Record<ChangeType, string>;
export type ChangeEventType = (typeof CHANGE_EVENT_TYPES)[ChangeType];
export const CHANGE_EVENT_TYPE_LIST = Object.values(CHANGE_EVENT_TYPES) as ChangeEventType[];

const knownTime = z.iso.datetime({ offset: true });
const changeBase = {
  commandId: z.uuid().describe('The command that caused the change'),
  timelineId: timelineIdSchema,
  version: z.number().int().positive().describe("The timeline's version after this change"),
  knownAt: knownTime.describe('Known time: when the service accepted the change'),
};

/** An event's fields as published: valid time as its text. */
const publishedEventDataSchema = eventDataSchema.extend({ validTime: validTimeTextSchema });

export const eventStateSchema = publishedEventDataSchema.extend({
  eventId: z.uuid(),
  timelineId: timelineIdSchema,
  revision: z.number().int().positive(),
  retracted: z.boolean(),
  retractionReason: z.string().nullable(),
  recordedAt: knownTime.describe('Known time of the first revision'),
  revisedAt: knownTime.describe('Known time of the current revision'),
});

/** Some of an event's fields, as a revision's `changed` and `previous` publish them. */
export const eventFieldsSchema = publishedEventDataSchema.partial();

/** The `data` of each change type, keyed by CloudEvents type. */
export const CHANGE_DATA_SCHEMAS = {
  'timeline.timeline.created.v1': z.object({ ...changeBase, timeline: timelineDataSchema }).describe('A timeline was created'),
  'timeline.event.recorded.v1': z
    .object({ ...changeBase, eventId: z.uuid(), revision: z.literal(1), event: eventStateSchema })
    .describe('An event was recorded on a timeline'),
  'timeline.event.revised.v1': z
    .object({
      ...changeBase,
      eventId: z.uuid(),
      revision: z.number().int().min(2),
      reason: z.string(),
      changed: eventFieldsSchema.describe('The fields this revision changed, with their new values'),
      previous: eventFieldsSchema.describe('The same fields with the values they had before'),
      event: eventStateSchema,
    })
    .describe('An event was revised'),
  'timeline.event.retracted.v1': z
    .object({ ...changeBase, eventId: z.uuid(), revision: z.number().int().min(2), reason: z.string(), event: eventStateSchema })
    .describe('An event was retracted; `event` is its state as retracted'),
  'timeline.redaction.applied.v1': z
    .object({
      ...changeBase,
      redactionId: z.uuid().describe('The redaction: the same on every timeline it touched'),
      kind: z.enum(REDACTION_KINDS).describe('What was removed: an actor (by id) or a source (by URL)'),
      valueHash: valueHashSchema.describe('SHA-256 (hex) of the actor id or the URL removed; the value itself is never published'),
      eventIds: z.array(z.uuid()).describe("The timeline's events rewritten without it, every revision: drop or re-fetch them"),
    })
    .describe('An actor or a source was redacted from events of the timeline (docs/redaction.md); their revision numbers stay'),
} as const satisfies Record<ChangeEventType, z.ZodType>;

/** A change as a structured-mode CloudEvent (the JSON of `application/cloudevents+json`). */
export interface ChangeCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: ChangeEventType;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  /** W3C trace context of the request that caused the change (distributed tracing extension). */
  traceparent?: string;
  data: Record<string, unknown>;
}

/** Stable across re-sends: the same change always has the same id. */
export function changeEventId(commandId: string, changeIndex: number): string {
  return nameBasedUuid(`change:${commandId}/${changeIndex}`);
}

export function dataSchemaUrl(baseUrl: string, type: ChangeEventType): string {
  return `${baseUrl}/schemas/${type}.json`;
}

export interface ChangeEventInput {
  /** As the outbox stores it. */
  change: AsJson<TimelineChange>;
  /** Position of the change among its command's changes. */
  changeIndex: number;
  traceparent: string | null;
}

/** Pure: the CloudEvent of an accepted change. `baseUrl` is where the api is reached (source, dataschema). */
export function changeCloudEvent({ change, changeIndex, traceparent }: ChangeEventInput, baseUrl: string): ChangeCloudEvent {
  const { type: changeType, ...data } = change;
  const type = CHANGE_EVENT_TYPES[changeType];
  return {
    specversion: '1.0',
    id: changeEventId(change.commandId, changeIndex),
    source: `${baseUrl}/v1/timelines/${change.timelineId}`,
    type,
    subject: change.type === 'TimelineCreated' || change.type === 'RedactionApplied' ? change.timelineId : change.eventId,
    time: change.knownAt,
    datacontenttype: 'application/json',
    dataschema: dataSchemaUrl(baseUrl, type),
    ...(traceparent ? { traceparent } : {}),
    data,
  };
}
