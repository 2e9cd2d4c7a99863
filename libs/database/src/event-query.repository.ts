import { Injectable } from '@nestjs/common';
import type { AsJson, EventState } from '@timeline/domain';
import { Pool } from 'pg';
import { actorRoleKey, placeFilterKeys } from './query-keys';

/** Languages whose stemmers a search runs through; see text_search_config() in the migrations. */
const SEARCH_LANGUAGES = [
  'ar',
  'hy',
  'eu',
  'ca',
  'da',
  'nl',
  'en',
  'fi',
  'fr',
  'de',
  'el',
  'hi',
  'hu',
  'id',
  'ga',
  'it',
  'lt',
  'ne',
  'no',
  'pt',
  'ro',
  'ru',
  'sr',
  'es',
  'sv',
  'ta',
  'tr',
  'yi',
  'simple',
];

export interface EventFilter {
  timelineId?: string;
  /** Valid-time window `[lower, upper)`, days. */
  window?: { lower: string; upper: string; match: 'overlaps' | 'within' };
  /** The moment the answer is as known at; revisions current then are used. */
  knownAt: string;
  actors?: string[];
  role?: string;
  places?: string[];
  topics?: string[];
  kinds?: string[];
  factualities?: string[];
  includeRetracted?: boolean;
  text?: string;
}

export type EventKeyset = { validLower: string; eventId: string } | { rank: number; eventId: string };

export interface EventQuery extends Omit<EventFilter, 'knownAt'> {
  /** Absent: the database's now, which the page reports back so that later pages pin it. */
  knownAt?: string;
  order: 'asc' | 'desc';
  limit: number;
  after?: EventKeyset;
}

export interface FoundEvent {
  event: AsJson<EventState>;
  keyset: EventKeyset;
}

export interface FoundPage {
  /** The known time the events were read at: the one asked for, or the database's now. */
  knownAt: string;
  /** Whether the query's timeline exists; null for a query across every timeline. */
  timelineExists: boolean | null;
  /** What a page of the query's timeline depends on, read with it; null across timelines or without the timeline. */
  validator: TimelineValidator | null;
  events: FoundEvent[];
}

/**
 * What every page of one timeline depends on besides the query: the timeline's version (each accepted change of
 * its events adds one) and the number of redactions recorded (a redaction rewrites revisions without a new version).
 */
export interface TimelineValidator {
  version: number;
  redactions: number;
}

export interface HistogramBucket {
  period: string;
  count: number;
}

/**
 * Timeline queries. Every query reads the revisions current at `knownAt`
 * (now, or a moment asked for), so "as known at" combines with every filter.
 */
@Injectable()
export class EventQueryRepository {
  constructor(private readonly pool: Pool) {}

  private readonly searchQueries = new Map<string, string>();

  /**
   * A page of events, with the known time it was read at and whether its timeline exists:
   * one statement, so a first page costs one round trip.
   */
  async findEvents(query: EventQuery): Promise<FoundPage> {
    const tsquery = query.text === undefined ? undefined : await this.searchQuery(query.text);
    // Nothing but stop words: no event matches, and nothing is searched.
    const { text, values, ranked } = findEventsSql(tsquery === '' ? { ...query, limit: 0 } : query, tsquery);
    // A row per event, or one with a null state when none matched; `rank` when ranked, else `valid_lower` (a date, as text).
    type Columns<S = AsJson<EventState> | null> = {
      known_at: Date;
      timeline_version: number | null;
      redactions: number | null;
      state: S;
      rank: number;
      valid_lower: string;
    };
    const { rows } = await this.pool.query<Columns>(text, values);
    const found = rows.filter((row): row is Columns<AsJson<EventState>> => row.state !== null);
    const [{ timeline_version: version, redactions }] = rows;
    return {
      knownAt: rows[0].known_at.toISOString(),
      timelineExists: query.timelineId === undefined ? null : version !== null,
      validator: version === null || redactions === null ? null : { version, redactions },
      events: found.map((row) => ({
        event: row.state,
        keyset: ranked ? { rank: row.rank, eventId: row.state.eventId } : { validLower: row.valid_lower, eventId: row.state.eventId },
      })),
    };
  }

  /** What the pages of a timeline depend on now (see TimelineValidator); null when the timeline does not exist. */
  async timelineValidator(timelineId: string): Promise<TimelineValidator | null> {
    const { rows } = await this.pool.query<TimelineValidator>(
      `select t.version, (select count(*) from redactions)::int as redactions from timelines t where t.timeline_id = $1`,
      [timelineId],
    );
    return rows[0] ?? null;
  }

  /** Events per year or month of their valid-time start, under the same filters. */
  async histogram(filter: EventFilter, by: 'year' | 'month'): Promise<HistogramBucket[]> {
    const sql = new SqlConditions();
    addFilter(sql, filter, `${sql.param(filter.knownAt)}::timestamptz`);
    if (filter.text) sql.add(`r.search @@ ${sql.param(await this.searchQuery(filter.text))}::tsquery`);
    const format = by === 'year' ? 'YYYY' : 'YYYY-MM';
    const { rows } = await this.pool.query<{ period: string; count: number }>(
      `select to_char(r.valid_lower, '${format}') as period, count(*)::int as count
       from event_revisions r
       where ${sql.where()}
       group by period
       order by period`,
      sql.values,
    );
    return rows;
  }

  /**
   * The search text through every language's stemming, duplicates removed:
   * an Italian event matches the Italian stems ("collegamento" ~ "collegamenti"),
   * an English one the English stems, and the query stays one constant the GIN
   * index can use. Cached: the same text always gives the same query.
   */
  async searchQuery(text: string): Promise<string> {
    const cached = this.searchQueries.get(text);
    if (cached !== undefined) return cached;
    const { rows } = await this.pool.query<{ query: string | null }>(
      `select string_agg(distinct '(' || stemmed::text || ')', ' | ') as query
       from unnest($2::text[]) as language,
            websearch_to_tsquery(text_search_config(language), $1) as stemmed
       where numnode(stemmed) > 0`,
      [text, SEARCH_LANGUAGES],
    );
    const query = rows[0].query ?? '';
    if (this.searchQueries.size >= 1_000) this.searchQueries.clear();
    this.searchQueries.set(text, query);
    return query;
  }

  /** The database's clock: what "now" is for a first page, pinned in its cursor. */
  async now(): Promise<string> {
    const { rows } = await this.pool.query<{ now: Date }>('select now() as now');
    return rows[0].now.toISOString();
  }
}

/**
 * The SQL of a page of events; exported so that a test can EXPLAIN exactly what runs.
 * `asked` is the known time (the one given, or now) and the timeline's validator (null when it does not
 * exist); the page is joined to it so that an empty page still answers both. The outer sort only re-states the
 * page's order: the page itself is read in index order and is at most `limit` rows.
 */
export function findEventsSql(query: EventQuery, searchTsquery?: string): { text: string; values: unknown[]; ranked: boolean } {
  const sql = new SqlConditions();
  const knownAt = sql.param(query.knownAt ?? null);
  const timelineId = sql.param(query.timelineId ?? null);
  const ranked = query.text !== undefined && searchTsquery !== undefined;
  // One actor across every timeline, in valid-time order: walk that actor's key in
  // event_revision_actor_keys, which then stands for the actor (and role) filter.
  const walkedActorKey = ranked || query.timelineId ? undefined : singleActorKey(query);
  addFilter(sql, walkedActorKey === undefined ? query : { ...query, actors: undefined, role: undefined }, 'asked.known_at');
  const direction = query.order === 'desc' ? 'desc' : 'asc';
  const asked = `with asked as (
         -- Milliseconds, as the cursor carries it: every page reads at exactly the instant it reports.
         select coalesce(${knownAt}::timestamptz, date_trunc('milliseconds', now())) as known_at,
                -- In the page's snapshot: a page's ETag never names a version older than the events it holds.
                (select t.version from timelines t where t.timeline_id = ${timelineId}::text) as timeline_version,
                case when ${timelineId}::text is not null then (select count(*) from redactions)::int end as redactions
       )`;
  if (ranked) {
    // Ranked: best first, ties by id; the keyset is (rank, id).
    const tsquery = `${sql.param(searchTsquery)}::tsquery`;
    sql.add(`r.search @@ ${tsquery}`);
    if (query.after && 'rank' in query.after) {
      sql.add(`(ts_rank(r.search, ${tsquery}), r.event_id) < (${sql.param(query.after.rank)}::real, ${sql.param(query.after.eventId)}::uuid)`);
    }
    const text = `${asked}
       select asked.known_at, asked.timeline_version, asked.redactions, page.state, page.rank
       from asked left join lateral (
         select r.state, r.event_id, ts_rank(r.search, ${tsquery}) as rank
         from event_revisions r
         where ${sql.where()}
         order by rank desc, r.event_id desc
         limit ${sql.param(query.limit)}
       ) page on true
       order by page.rank desc, page.event_id desc`;
    return { text, values: sql.values, ranked: true };
  }
  // The order (and keyset) is on the walked index's columns: the same values as the revision's.
  const ordered = walkedActorKey === undefined ? 'r' : 'a';
  if (walkedActorKey !== undefined) sql.add(`a.actor_key = ${sql.param(walkedActorKey)}`);
  if (query.after && 'validLower' in query.after) {
    const comparison = direction === 'asc' ? '>' : '<';
    sql.add(
      `(${ordered}.valid_lower, ${ordered}.event_id) ${comparison} (${sql.param(query.after.validLower)}::date, ${sql.param(query.after.eventId)}::uuid)`,
    );
  }
  const revisions =
    walkedActorKey === undefined
      ? 'event_revisions r'
      : 'event_revision_actor_keys a join event_revisions r on r.event_id = a.event_id and r.revision = a.revision';
  const text = `${asked}
       select asked.known_at, asked.timeline_version, asked.redactions, page.state, page.valid_lower
       from asked left join lateral (
         select r.state, r.valid_lower, r.event_id
         from ${revisions}
         where ${sql.where()}
         order by ${ordered}.valid_lower ${direction}, ${ordered}.event_id ${direction}
         limit ${sql.param(query.limit)}
       ) page on true
       order by page.valid_lower ${direction}, page.event_id ${direction}`;
  return { text, values: sql.values, ranked: false };
}

/** `knownAt` is SQL: a parameter, or the known time a page's statement settled on. */
function addFilter(sql: SqlConditions, filter: Omit<EventFilter, 'knownAt'>, knownAt: string): void {
  sql.add(`r.known_from <= ${knownAt} and (r.known_to is null or r.known_to > ${knownAt})`);
  if (!filter.includeRetracted) sql.add('not r.retracted');
  if (filter.timelineId) sql.add(`r.timeline_id = ${sql.param(filter.timelineId)}`);
  if (filter.window) {
    const lower = `${sql.param(filter.window.lower)}::date`;
    const upper = `${sql.param(filter.window.upper)}::date`;
    // Both ranges are half-open days [lower, upper).
    sql.add(
      filter.window.match === 'within' ? `r.valid_lower >= ${lower} and r.valid_upper <= ${upper}` : `r.valid_lower < ${upper} and r.valid_upper > ${lower}`,
    );
  }
  if (filter.actors?.length) {
    // event_revision_actor_keys holds every revision's actor keys (a trigger fills it): no index on actor_keys is kept.
    sql.add(
      `(r.event_id, r.revision) in (select k.event_id, k.revision from event_revision_actor_keys k
                                     where k.actor_key = any(${sql.param(actorFilterKeys(filter.actors, filter.role))}::text[]))`,
    );
  } else if (filter.role) {
    sql.add(`exists (select 1 from jsonb_array_elements(r.state->'actors') a where lower(a->>'role') = ${sql.param(filter.role.toLowerCase())})`);
  }
  if (filter.places?.length) sql.add(`r.place_keys && ${sql.param(filter.places.flatMap(placeFilterKeys))}::text[]`);
  if (filter.topics?.length) sql.add(`r.topics && ${sql.param(filter.topics)}::text[]`);
  if (filter.kinds?.length) sql.add(`r.kind = any(${sql.param(filter.kinds)}::text[])`);
  if (filter.factualities?.length) sql.add(`r.factuality = any(${sql.param(filter.factualities)}::text[])`);
}

/** `actor=` values as actor keys: with a role, each actor in that role. */
function actorFilterKeys(actors: string[], role: string | undefined): string[] {
  return role ? actors.map((actor) => actorRoleKey(actor, role)) : actors;
}

function singleActorKey(filter: Pick<EventFilter, 'actors' | 'role'>): string | undefined {
  return filter.actors?.length === 1 ? actorFilterKeys(filter.actors, filter.role)[0] : undefined;
}

/** Collects `and`-ed conditions and their numbered parameters. */
class SqlConditions {
  readonly values: unknown[] = [];
  private readonly conditions: string[] = [];

  param(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  add(condition: string): void {
    this.conditions.push(condition);
  }

  where(): string {
    return this.conditions.join('\n         and ');
  }
}
