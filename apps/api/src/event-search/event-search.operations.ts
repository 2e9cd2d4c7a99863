import { z } from 'zod';
import { ETAG, MEDIA, PAGE_PARAMETER_DESCRIPTIONS, READ_PROBLEMS, type ApiOperation, type HeaderParameter, type ResponseHeader } from '../http/api-operation';
import { CONSISTENCY_TOKEN_PARAMETER } from '../http/consistency-token';
import { eventSearchParamsSchema } from './event-search.params';
import { eventPageSchema, histogramQuerySchema, histogramSchema, timelineJsSchema } from './event-search.schemas';
import { TIMELINEJS_MEDIA_TYPE } from './timelinejs';

const ACCEPT_LANGUAGE: HeaderParameter = {
  name: 'Accept-Language',
  schema: z.string().max(500),
  description: 'Languages the reader prefers (RFC 9110), e.g. `it-IT, en;q=0.8`. Titles and summaries are given in the best available; `lang` wins over it.',
};

const IF_NONE_MATCH: HeaderParameter = {
  name: 'If-None-Match',
  schema: z.string().max(2000),
  description: 'The `ETag` of a copy of this page the client holds: `304` without a body while it is still the answer.',
};

const NEXT_PAGE_LINK: ResponseHeader = {
  schema: z.string(),
  required: false,
  description: 'The next page of a TimelineJS export (RFC 8288, `rel="next"`), when there is one',
};

const SEARCH_PARAMETER_DESCRIPTIONS = {
  from: 'Start of the valid-time window: a date, `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; a partial date starts at its first day.',
  to: 'End of the valid-time window, same forms as `from` and not before it; a partial date takes in its whole period (`to=2022` includes 31 December 2022).',
  match:
    '`overlaps`: events whose valid time overlaps the window (`2023-07` overlaps 10–20 July 2023); `within`: events whose valid time lies wholly inside it, at their own precision.',
  validAt: 'A day (or month, or year): events whose valid time covers it. Not combined with `from`/`to`.',
  knownAt:
    'An instant (ISO 8601, or a date meaning its start in UTC): the answer as the service knew it then: the revision current at that moment, events recorded later left out, events retracted later still shown.',
  actor: 'An actor id; repeat for any of several (`actor=jp&actor=nato`).',
  role: 'With `actor`: only where the actor had this role (e.g. `signatory`).',
  place: 'A place name or an ISO 3166-1 country code; repeatable.',
  topic: 'A topic slug; repeatable.',
  kind: 'An event kind such as `summit.attended`; repeatable.',
  factuality: 'confirmed, reported, expected or disputed; repeatable.',
  includeRetracted: 'Also return retracted events (flagged `retracted: true`).',
  q: "Full-text search in each event's own language (stemmed with PostgreSQL's configuration for it); results are ranked by relevance.",
  order: 'Valid-time order (ties by event id); with `q`, order of rank.',
  ...PAGE_PARAMETER_DESCRIPTIONS,
  format: '`timelinejs`: the Knight Lab TimelineJS JSON of the page (as with `Accept: application/vnd.timelinejs+json`).',
  lang: 'Give titles and summaries in this language (ISO 639-1) where a translation exists; wins over `Accept-Language`.',
  by: "The period to count per: `year` or `month` of each event's valid-time start.",
};
const searchQuery = { schema: eventSearchParamsSchema, descriptions: SEARCH_PARAMETER_DESCRIPTIONS };

const SEARCH_DESCRIPTION =
  'Filters combine (and); repeatable filters match any of their values. Every filter combines with `knownAt`. ' +
  'Pages are keyset-based: following `nextCursor` neither skips nor repeats an event while writes arrive. ' +
  'Expensive shapes (`q`, `actor` across timelines, TimelineJS exports, histograms) count against RATE_LIMIT_QUERIES_PER_SECOND: past it, 429.';

export const EVENT_SEARCH_OPERATIONS: ApiOperation[] = [
  {
    method: 'get',
    path: '/v1/timelines/{timelineId}/events',
    operationId: 'searchTimelineEvents',
    access: 'timelines:read',
    tag: 'Queries',
    summary: "Search a timeline's events",
    description:
      `The timeline's events, current or as known at \`knownAt\`, filtered, searched and paged. ${SEARCH_DESCRIPTION} With \`Accept: ${TIMELINEJS_MEDIA_TYPE}\` or \`format=timelinejs\` the page is Knight Lab TimelineJS JSON. ` +
      "Every page carries an `ETag`: a hash of the request and of the timeline's state (its version and the redactions), strong when the page is pinned to a known time (`knownAt` or `cursor`), weak when read at now. Sent back in `If-None-Match`, it is answered `304` without a body while the page is unchanged (no write to the timeline, no redaction since).",
    query: searchQuery,
    headers: { AcceptLanguage: ACCEPT_LANGUAGE, IfNoneMatch: IF_NONE_MATCH, ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: {
      200: {
        description: 'A page of events (or its TimelineJS document); `Link` names the next TimelineJS page',
        content: { [MEDIA.json]: eventPageSchema, [TIMELINEJS_MEDIA_TYPE]: timelineJsSchema },
        headers: { ETag: ETAG, Link: NEXT_PAGE_LINK },
      },
      304: { description: '`If-None-Match` names this page as it is now: the copy the client holds is the answer', headers: { ETag: ETAG } },
    },
    problems: [...READ_PROBLEMS, 'timeline-not-found', 'rate-limited', 'invalid-consistency-token'],
  },
  {
    method: 'get',
    path: '/v1/timelines/{timelineId}/histogram',
    operationId: 'timelineHistogram',
    access: 'timelines:read',
    tag: 'Queries',
    summary: 'Count events per year or month',
    description: 'Counts of the events the same filters would return, per year or month of their valid-time start.',
    query: { schema: histogramQuerySchema, descriptions: SEARCH_PARAMETER_DESCRIPTIONS },
    headers: { ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'Counts per period', content: { [MEDIA.json]: histogramSchema } } },
    problems: [...READ_PROBLEMS, 'timeline-not-found', 'rate-limited', 'invalid-consistency-token'],
  },
  {
    method: 'get',
    path: '/v1/events',
    operationId: 'searchEvents',
    access: 'timelines:read',
    tag: 'Queries',
    summary: 'Search events across timelines',
    description: `Events of every timeline, current or as known at \`knownAt\`, filtered, searched and paged. ${SEARCH_DESCRIPTION}`,
    query: searchQuery,
    headers: { AcceptLanguage: ACCEPT_LANGUAGE, ConsistencyToken: CONSISTENCY_TOKEN_PARAMETER },
    responses: { 200: { description: 'A page of events', content: { [MEDIA.json]: eventPageSchema } } },
    problems: [...READ_PROBLEMS, 'rate-limited', 'invalid-consistency-token'],
  },
];
