import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { commandSchema, parsePartialDate, ValidTime, type EventData, type TimelineCommand } from '@timeline/domain';
import { createMigratedDatabase, type MigratedDatabase } from '../../../test/support/migrated-database';
import { projectRecords, recordOf } from '../../../test/support/projected-commands';
import { EventQueryRepository, type EventKeyset, type EventQuery, type FoundPage } from './event-query.repository';
import { ProjectionRepository } from './projection.repository';

/** Known times: everything is recorded at T1; at T2 one event is revised and one retracted. */
const T1 = Date.parse('2025-03-01T10:00:00.000Z');
const T2 = Date.parse('2025-04-01T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const BETWEEN = iso(T1 + 60_000);

const japan = { id: 'jp', name: 'Japan', role: 'participant' };
const kishida = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'Prime minister' };
const nato = (role: string) => ({ id: 'nato', name: 'NATO', role });

type EventInput = Partial<Omit<EventData, 'validTime'>> & Pick<EventData, 'title' | 'kind'> & { validTime: string };
const event = (timelineId: string, input: EventInput) => ({
  eventId: randomUUID(),
  timelineId,
  data: { language: 'it', factuality: 'reported', ...input },
});

// The seed: japan-nato in Italian, and one English event on another timeline.
const madrid = event('japan-nato', {
  kind: 'summit.attended',
  title: 'Il Giappone al vertice NATO di Madrid',
  validTime: '2022-06-28/2022-06-30',
  actors: [japan, kishida],
  places: [{ name: 'Madrid', country: 'ES' }],
  topics: ['nato', 'security'],
});
const programme = event('japan-nato', {
  kind: 'programme.adopted',
  title: 'Adottato il programma di partenariato',
  validTime: '2023-07-12',
  actors: [japan, nato('partner')],
  places: [{ name: 'Vilnius', country: 'LT' }],
  topics: ['partnership'],
});
const liaison = event('japan-nato', {
  kind: 'proposal.shelved',
  title: "Accantonato l'ufficio di collegamento a Tokyo",
  summary: 'Il progetto di un ufficio di collegamento della NATO a Tokyo è rinviato',
  validTime: '2023-07',
  actors: [nato('proposer')],
  places: [{ name: 'Tokyo', country: 'JP' }],
  topics: ['liaison-office'],
});
/** Revised at T2: valid time 2024 → 2022-12, confirmed. */
const statement = event('japan-nato', { kind: 'statement.reported', title: 'Dichiarazione congiunta', validTime: '2024', actors: [japan] });
/** Retracted at T2. */
const rumour = event('japan-nato', { kind: 'statement.reported', title: 'Voce non confermata', validTime: '2023-07-20', factuality: 'disputed' });
const english = event('english-timeline', {
  kind: 'office.opened',
  title: 'Liaison offices opened in Brussels',
  language: 'en',
  validTime: '2023',
  actors: [japan],
  places: [{ name: 'Brussels', country: 'BE' }],
});
type SeedEvent = typeof madrid;

const createTimeline = (timelineId: string): TimelineCommand =>
  commandSchema.parse({ type: 'CreateTimeline', commandId: randomUUID(), timelineId, timeline: { title: timelineId, defaultLanguage: 'it' } });
const recordEvent = ({ eventId, timelineId, data }: SeedEvent): TimelineCommand =>
  commandSchema.parse({ type: 'RecordEvent', commandId: randomUUID(), timelineId, eventId, event: data });

/** Valid-time order as the pages keep it: first day, then event id. */
const validLowerOf = (seed: SeedEvent, validTime = seed.data.validTime) => ValidTime.parse(validTime)!.lower;
const inValidTimeOrder = (seeds: SeedEvent[], lowers: Map<SeedEvent, string> = new Map()) =>
  [...seeds].sort((a, b) => {
    const [lowerA, lowerB] = [lowers.get(a) ?? validLowerOf(a), lowers.get(b) ?? validLowerOf(b)];
    return lowerA === lowerB ? a.eventId.localeCompare(b.eventId) : lowerA.localeCompare(lowerB);
  });
const JAPAN_NATO_VALIDATOR = { version: 8, redactions: 0 };

/** The current first days: the statement moved to 2022-12 at T2. */
const NOW_LOWERS = new Map([[statement, '2022-12-01']]);

/** `[lower(from), upper(to))`, as the api turns `from`/`to` partial dates into a window. */
const window = (from: string, to: string, match: 'overlaps' | 'within') => ({
  lower: parsePartialDate(from)!.lower,
  upper: parsePartialDate(to)!.upper,
  match,
});

describe('the event queries', () => {
  let database: MigratedDatabase;
  let events: EventQueryRepository;
  const ids = (page: FoundPage) => page.events.map((found) => found.event.eventId);
  const idsOf = (seeds: SeedEvent[]) => seeds.map((seed) => seed.eventId);
  const find = (query: Partial<EventQuery>) => events.findEvents({ order: 'asc', limit: 100, ...query });

  /** Every page, each after the last keyset of the one before. */
  async function allPages(query: Partial<EventQuery>, limit: number): Promise<string[][]> {
    const pages: string[][] = [];
    let after: EventKeyset | undefined;
    for (;;) {
      const page = await find({ ...query, limit, after });
      if (page.events.length === 0) return pages;
      pages.push(ids(page));
      after = page.events.at(-1)!.keyset;
    }
  }

  beforeAll(async () => {
    database = await createMigratedDatabase();
    events = new EventQueryRepository(database.pool);
    const projection = new ProjectionRepository(database.pool);
    const seeds = [madrid, programme, liaison, statement, rumour, english];
    await projectRecords(projection, [createTimeline('japan-nato'), createTimeline('english-timeline'), ...seeds.map(recordEvent)].map(recordOf), {
      timestamp: T1,
    });
    const later: TimelineCommand[] = [
      commandSchema.parse({
        type: 'ReviseEvent',
        commandId: randomUUID(),
        timelineId: 'japan-nato',
        eventId: statement.eventId,
        changes: { validTime: '2022-12', factuality: 'confirmed' },
        reason: 'Dated from the minutes',
      }),
      commandSchema.parse({ type: 'RetractEvent', commandId: randomUUID(), timelineId: 'japan-nato', eventId: rumour.eventId, reason: 'Never happened' }),
    ];
    await projectRecords(projection, later.map(recordOf), { timestamp: T2 });
  });
  afterAll(() => database?.drop());

  describe('known time', () => {
    test("without knownAt: the current revisions, read at the database's now, which the page reports", async () => {
      const before = Date.now();
      const page = await find({ timelineId: 'japan-nato' });
      expect(ids(page)).toEqual(idsOf(inValidTimeOrder([madrid, programme, liaison, statement], NOW_LOWERS)));
      expect(page.events.find((found) => found.event.eventId === statement.eventId)!.event).toMatchObject({
        validTime: '2022-12',
        factuality: 'confirmed',
        revision: 2,
      });
      expect(Date.parse(page.knownAt)).toBeGreaterThanOrEqual(before - 1_000);
    });

    test('as known at a moment before a revision and a retraction: the revisions current then, the retracted event included', async () => {
      const page = await find({ timelineId: 'japan-nato', knownAt: BETWEEN });
      expect(page.knownAt).toBe(BETWEEN);
      expect(ids(page)).toEqual(idsOf(inValidTimeOrder([madrid, programme, liaison, statement, rumour])));
      expect(page.events.find((found) => found.event.eventId === statement.eventId)!.event).toMatchObject({
        validTime: '2024',
        factuality: 'reported',
        revision: 1,
      });
    });

    test('as known at the very instant of a change: that change is known', async () => {
      const page = await find({ timelineId: 'japan-nato', knownAt: iso(T2) });
      expect(ids(page)).not.toContain(rumour.eventId);
      expect(page.events.find((found) => found.event.eventId === statement.eventId)!.event.revision).toBe(2);
    });

    test('as known before anything was recorded: nothing, yet the timeline exists', async () => {
      const page = await find({ timelineId: 'japan-nato', knownAt: iso(T1 - 1) });
      expect(page).toEqual({ knownAt: iso(T1 - 1), timelineExists: true, validator: JAPAN_NATO_VALIDATOR, events: [] });
    });

    test('includeRetracted: the retraction itself is the current revision of the retracted event', async () => {
      const page = await find({ timelineId: 'japan-nato', includeRetracted: true, kinds: ['statement.reported'] });
      expect(page.events.map((found) => [found.event.eventId, found.event.retracted, found.event.revision])).toEqual(
        inValidTimeOrder([statement, rumour], NOW_LOWERS).map((seed) => [seed.eventId, seed === rumour, 2]),
      );
    });
  });

  test("whether the query's timeline exists: true, false for an unknown one (and no events), null across every timeline", async () => {
    expect((await find({ timelineId: 'japan-nato', limit: 1 })).timelineExists).toBe(true);
    expect(await find({ timelineId: 'no-such-timeline', knownAt: BETWEEN })).toEqual({
      knownAt: BETWEEN,
      timelineExists: false,
      validator: null,
      events: [],
    });
    expect((await find({ limit: 1 })).timelineExists).toBeNull();
  });

  test("a timeline's validator: its version and the redactions, with each page of it and on its own; none across timelines", async () => {
    // Created (1), five events recorded (6), one revised (7), one retracted (8).
    expect((await find({ timelineId: 'japan-nato', limit: 1 })).validator).toEqual(JAPAN_NATO_VALIDATOR);
    expect((await find({ timelineId: 'japan-nato', knownAt: iso(T1 - 1) })).validator).toEqual(JAPAN_NATO_VALIDATOR);
    expect(await events.timelineValidator('japan-nato')).toEqual(JAPAN_NATO_VALIDATOR);
    expect(await events.timelineValidator('no-such-timeline')).toBeNull();
    expect((await find({ limit: 1 })).validator).toBeNull();
  });

  describe('valid time', () => {
    test('overlapping a month given as partial dates: the day, the month and the year that touch it, in valid-time order', async () => {
      const page = await find({ window: window('2023-07', '2023-07', 'overlaps'), knownAt: BETWEEN });
      expect(ids(page)).toEqual(idsOf(inValidTimeOrder([programme, liaison, rumour, english])));
    });

    test('within a month: only what lies inside it, not the year that contains it', async () => {
      const page = await find({ window: window('2023-07', '2023-07', 'within'), knownAt: BETWEEN });
      expect(ids(page)).toEqual(idsOf(inValidTimeOrder([programme, liaison, rumour])));
    });

    test('a window is half-open: an event that ends the day it starts is not in it', async () => {
      // Madrid covers [2022-06-28, 2022-07-01).
      expect(ids(await find({ window: window('2022-07-01', '2022-12-31', 'overlaps') }))).toEqual([statement.eventId]);
      expect(ids(await find({ window: window('2022-06-30', '2022-06-30', 'overlaps') }))).toEqual([madrid.eventId]);
      expect(ids(await find({ window: window('2022-06-29', '2022', 'within') }))).toEqual([statement.eventId]);
      expect(ids(await find({ window: window('2022', '2022', 'within') }))).toEqual(idsOf(inValidTimeOrder([madrid, statement], NOW_LOWERS)));
    });

    test('the valid time a revision changed is the one filtered on, at each known time', async () => {
      const inTwentyTwentyFour = window('2024', '2024', 'overlaps');
      expect(ids(await find({ window: inTwentyTwentyFour, knownAt: BETWEEN }))).toEqual([statement.eventId]);
      expect(ids(await find({ window: inTwentyTwentyFour }))).toEqual([]);
    });
  });

  describe('actors, places, topics, kinds, factualities', () => {
    test('actor: every event naming it, across timelines when no timeline is given', async () => {
      expect(ids(await find({ actors: ['jp'] }))).toEqual(idsOf(inValidTimeOrder([madrid, programme, statement, english], NOW_LOWERS)));
      expect(ids(await find({ actors: ['jp'], timelineId: 'japan-nato' }))).toEqual(idsOf(inValidTimeOrder([madrid, programme, statement], NOW_LOWERS)));
      expect(ids(await find({ actors: ['fumio-kishida', 'nato'] }))).toEqual(idsOf(inValidTimeOrder([madrid, programme, liaison])));
    });

    test('actor with a role: only where the actor has that role, whatever its case', async () => {
      expect(ids(await find({ actors: ['nato'], role: 'Proposer' }))).toEqual([liaison.eventId]);
      expect(ids(await find({ actors: ['nato'], role: 'proposer', timelineId: 'japan-nato' }))).toEqual([liaison.eventId]);
      expect(ids(await find({ actors: ['fumio-kishida'], role: 'prime minister' }))).toEqual([madrid.eventId]);
      expect(ids(await find({ actors: ['jp'], role: 'proposer' }))).toEqual([]);
    });

    test('role alone: any actor in that role', async () => {
      expect(ids(await find({ role: 'PARTNER' }))).toEqual([programme.eventId]);
    });

    test('place: by name whatever its case, or by a two-letter country code', async () => {
      expect(ids(await find({ places: ['madrid'] }))).toEqual([madrid.eventId]);
      expect(ids(await find({ places: ['LT'] }))).toEqual([programme.eventId]);
      expect(ids(await find({ places: ['Tokyo', 'BE'] }))).toEqual(idsOf(inValidTimeOrder([liaison, english])));
    });

    test('topic, kind and factuality: any of the values given', async () => {
      expect(ids(await find({ topics: ['nato', 'liaison-office'] }))).toEqual(idsOf(inValidTimeOrder([madrid, liaison])));
      expect(ids(await find({ kinds: ['proposal.shelved', 'office.opened'] }))).toEqual(idsOf(inValidTimeOrder([liaison, english])));
      expect(ids(await find({ factualities: ['confirmed'] }))).toEqual([statement.eventId]);
      expect(ids(await find({ factualities: ['confirmed'], knownAt: BETWEEN }))).toEqual([]);
      expect(ids(await find({ factualities: ['disputed'], knownAt: BETWEEN }))).toEqual([rumour.eventId]);
    });

    test('filters combine: each one narrows the others', async () => {
      expect(
        ids(await find({ actors: ['jp'], places: ['ES'], topics: ['security'], kinds: ['summit.attended'], window: window('2022', '2022', 'within') })),
      ).toEqual([madrid.eventId]);
      expect(ids(await find({ actors: ['jp'], places: ['LT'], topics: ['security'] }))).toEqual([]);
    });
  });

  describe('full text', () => {
    test('Italian stemming in the event\'s language: "collegamento" finds the liaison office, and so does "collegamenti"', async () => {
      expect(ids(await find({ text: 'collegamento' }))).toEqual([liaison.eventId]);
      expect(ids(await find({ text: 'collegamenti' }))).toEqual([liaison.eventId]);
      expect(ids(await find({ text: 'ufficio di collegamento', timelineId: 'japan-nato' }))).toEqual([liaison.eventId]);
    });

    test('English stemming for an English event: "office" finds "offices"', async () => {
      expect(ids(await find({ text: 'office' }))).toEqual([english.eventId]);
    });

    test('ranked best first, with a rank keyset; the summary is searched too', async () => {
      // NATO: in the Madrid title, and in the liaison summary.
      const page = await find({ text: 'NATO' });
      expect(ids(page).sort()).toEqual(idsOf([madrid, liaison]).sort());
      const ranks = page.events.map((found) => (found.keyset as { rank: number }).rank);
      expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
      expect(page.events.map((found) => found.keyset)).toEqual(page.events.map((found, index) => ({ rank: ranks[index], eventId: found.event.eventId })));
    });

    test('search combines with the other filters and with known time', async () => {
      expect(ids(await find({ text: 'voce', knownAt: BETWEEN }))).toEqual([rumour.eventId]);
      expect(ids(await find({ text: 'voce' }))).toEqual([]);
      expect(ids(await find({ text: 'NATO', kinds: ['proposal.shelved'] }))).toEqual([liaison.eventId]);
    });

    test('a text with nothing to search for finds nothing and still answers the known time', async () => {
      expect(await find({ text: '!?', knownAt: BETWEEN, timelineId: 'japan-nato' })).toEqual({
        knownAt: BETWEEN,
        timelineExists: true,
        validator: JAPAN_NATO_VALIDATOR,
        events: [],
      });
    });
  });

  describe('keyset pages', () => {
    const everyCurrent = () => idsOf(inValidTimeOrder([madrid, programme, liaison, statement, english], NOW_LOWERS));

    test('in valid-time order: each page continues where the last ended, without duplicates or gaps', async () => {
      const pages = await allPages({ knownAt: iso(T2) }, 2);
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(everyCurrent());
    });

    test('in descending order: the same events, last first', async () => {
      const pages = await allPages({ knownAt: iso(T2), order: 'desc' }, 2);
      expect(pages.flat()).toEqual(everyCurrent().reverse());
    });

    test("one actor across timelines (walked through its actor keys): pages in valid-time order, its keyset the revision's", async () => {
      const pages = await allPages({ actors: ['jp'], knownAt: iso(T2) }, 1);
      expect(pages.flat()).toEqual(idsOf(inValidTimeOrder([madrid, programme, statement, english], NOW_LOWERS)));
      const first = await find({ actors: ['jp'], limit: 1 });
      expect(first.events[0].keyset).toEqual({ validLower: '2022-06-28', eventId: madrid.eventId });
    });

    test('ranked: each page continues below the last rank, ties by event id, without duplicates or gaps', async () => {
      const text = 'NATO or partenariato or Tokyo';
      const whole = await find({ text });
      // Madrid and the programme match one word each, in titles of the same length: the same rank.
      const tied = whole.events.filter((found) => found.event.eventId !== liaison.eventId).map((found) => found.keyset as { rank: number; eventId: string });
      expect(tied).toHaveLength(2);
      expect(tied[0].rank).toBe(tied[1].rank);
      expect(tied.map((keyset) => keyset.eventId)).toEqual(idsOf([madrid, programme]).sort().reverse());
      expect((await allPages({ text }, 1)).flat()).toEqual(ids(whole));
    });

    test('pages pinned at a known time stay the same when later revisions are known', async () => {
      const pages = await allPages({ timelineId: 'japan-nato', knownAt: BETWEEN }, 2);
      expect(pages.flat()).toEqual(idsOf(inValidTimeOrder([madrid, programme, liaison, statement, rumour])));
    });

    test('a keyset is a position: an event id that is on no page still continues from where it would sort', async () => {
      // Current first days: Madrid 2022-06-28, the statement 2022-12-01, the English event 2023-01-01,
      // the liaison office 2023-07-01, the programme 2023-07-12.
      const after = (validLower: string, eventId: string) => find({ knownAt: iso(T2), after: { validLower, eventId } });
      expect(ids(await after('2023-07-01', '00000000-0000-0000-0000-000000000000'))).toEqual(idsOf([liaison, programme]));
      expect(ids(await after('2023-07-01', 'ffffffff-ffff-ffff-ffff-ffffffffffff'))).toEqual(idsOf([programme]));
      expect(ids(await after('2022-12-15', randomUUID()))).toEqual(idsOf([english, liaison, programme]));
      expect(ids(await after('2099-01-01', randomUUID()))).toEqual([]);
    });

    test('a keyset of the other kind (a rank for a valid-time page, a day for a ranked one) is ignored: the first page', async () => {
      const rankKeyset = { rank: 0.01, eventId: madrid.eventId };
      expect(ids(await find({ timelineId: 'japan-nato', after: rankKeyset }))).toEqual(ids(await find({ timelineId: 'japan-nato' })));
      const dayKeyset = { validLower: '2030-01-01', eventId: madrid.eventId };
      expect(ids(await find({ text: 'NATO', after: dayKeyset }))).toEqual(ids(await find({ text: 'NATO' })));
    });
  });

  test('histogram: events per year or month of their valid-time start, under the same filters and known time', async () => {
    expect(await events.histogram({ timelineId: 'japan-nato', knownAt: BETWEEN }, 'year')).toEqual([
      { period: '2022', count: 1 },
      { period: '2023', count: 3 },
      { period: '2024', count: 1 },
    ]);
    expect(await events.histogram({ knownAt: iso(T2), actors: ['jp'] }, 'month')).toEqual([
      { period: '2022-06', count: 1 },
      { period: '2022-12', count: 1 },
      { period: '2023-01', count: 1 },
      { period: '2023-07', count: 1 },
    ]);
    expect(await events.histogram({ knownAt: iso(T2), text: 'collegamento' }, 'year')).toEqual([{ period: '2023', count: 1 }]);
  });
});
