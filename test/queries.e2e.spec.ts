import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { findEventsSql } from '@timeline/database';
import { loadSeed } from '../scripts/seed/load-seed';
import { TestTimelineService } from './support/timeline-service';
import { testToken } from './support/tokens';

const SEED = {
  ukraine: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1001',
  madrid: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1002',
  itpp: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1003',
  ap4: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1004',
  liaison: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1005',
  sweden: '0b1e4c2a-6f3d-4e8a-9c1b-2a7d5e0f1006',
};
const plusMs = (instant: string, ms: number) => new Date(Date.parse(instant) + ms).toISOString();

describe('timeline queries on the read models, fed through the projector', () => {
  let service: TestTimelineService;
  const ids = (body: { events: { eventId: string }[] }) => body.events.map((event) => event.eventId);
  const search = async (query: string, timeline = 'japan-nato') => {
    const response = await service.http.get(`/v1/timelines/${timeline}/events?${query}`);
    expect(response.status).toBe(200);
    return response.body;
  };

  // Known times of the history built below.
  let itppRecordedAt: string;
  let itppConfirmedAt: string;
  let liaisonRetractedAt: string;

  beforeAll(async () => {
    service = await TestTimelineService.start();
    await loadSeed(service.http.baseUrl, testToken());
    const itpp = (await service.http.get(`/v1/events/${SEED.itpp}/revisions`)).body.revisions;
    itppRecordedAt = itpp[0].knownFrom;
    itppConfirmedAt = itpp[1].knownFrom;
    const retraction = await service.http.post(`/v1/events/${SEED.liaison}/retraction`, { reason: 'Weak secondary sources only' });
    expect(retraction.status).toBe(200);
    liaisonRetractedAt = retraction.body.event.revisedAt;
  });
  afterAll(async () => {
    await service?.stop();
  });

  describe('valid time with partial dates', () => {
    test('"2023-07" overlaps 10–20 July 2023 but does not lie within it', async () => {
      const window = 'from=2023-07-10&to=2023-07-20&includeRetracted=true';
      // Valid-time order; the two events of 12 July by id.
      expect(ids(await search(window))).toEqual([SEED.liaison, SEED.itpp, SEED.ap4]);
      expect(ids(await search(`${window}&match=within`)).sort()).toEqual([SEED.itpp, SEED.ap4].sort());
    });

    test('a partial `to` takes in its whole period: to=2022 includes the Madrid summit', async () => {
      expect(ids(await search('to=2022'))).toEqual([SEED.ukraine, SEED.madrid]);
      expect(ids(await search('from=2023-08'))).toEqual([SEED.sweden]);
    });

    test('the edges are half-open: a range ending 30 June does not overlap 1 July', async () => {
      expect(ids(await search('from=2022-06-30&to=2022-06-30'))).toEqual([SEED.madrid]);
      expect(ids(await search('from=2022-07-01&to=2022-07-31'))).toEqual([]);
      expect(ids(await search('from=2022-06-28&to=2022-06-30&match=within'))).toEqual([SEED.madrid]);
      expect(ids(await search('from=2022-06-29&to=2022-06-30&match=within'))).toEqual([]);
    });

    test('validAt gives the events whose valid time covers that day', async () => {
      expect(ids(await search('validAt=2023-07-12&includeRetracted=true')).sort()).toEqual([SEED.itpp, SEED.ap4, SEED.liaison].sort());
      expect(ids(await search('validAt=2022-06-29'))).toEqual([SEED.madrid]);
    });

    test('order=desc walks valid time backwards', async () => {
      expect(ids(await search('order=desc&limit=2'))).toEqual([SEED.sweden, ids(await search('validAt=2023-07-12&order=desc'))[0]]);
    });
  });

  describe('knownAt: the timeline as the service knew it', () => {
    test('before the ITPP was recorded it is left out; between recording and confirmation it is `expected`', async () => {
      expect(ids(await search(`knownAt=${plusMs(itppRecordedAt, -1)}`))).not.toContain(SEED.itpp);
      const before = await search(`knownAt=${itppRecordedAt}&validAt=2023-07-12`);
      expect(before.events.find((event: any) => event.eventId === SEED.itpp)).toMatchObject({ factuality: 'expected', revision: 1 });
      const after = await search(`knownAt=${itppConfirmedAt}&validAt=2023-07-12`);
      expect(after.events.find((event: any) => event.eventId === SEED.itpp)).toMatchObject({ factuality: 'confirmed', revision: 2 });
    });

    test('an event retracted later is still shown as known before its retraction', async () => {
      expect(ids(await search(''))).not.toContain(SEED.liaison);
      expect(ids(await search(`knownAt=${plusMs(liaisonRetractedAt, -1)}`))).toContain(SEED.liaison);
      expect(ids(await search(`knownAt=${liaisonRetractedAt}`))).not.toContain(SEED.liaison);
    });

    // Each filter alone, now and as known before the ITPP was confirmed (it was `expected` then).
    const beforeConfirmation = () => plusMs(itppConfirmedAt, -1);
    test.each([
      ['factuality=expected', [], [SEED.itpp, SEED.sweden]],
      ['factuality=confirmed', [SEED.ukraine, SEED.madrid, SEED.itpp, SEED.ap4, SEED.sweden], [SEED.ukraine, SEED.madrid, SEED.ap4]],
      ['actor=fumio-kishida', [SEED.madrid, SEED.itpp], [SEED.madrid, SEED.itpp]],
      ['actor=fumio-kishida&role=signatory', [SEED.itpp], [SEED.itpp]],
      ['actor=fr&actor=se', [SEED.sweden], [SEED.liaison, SEED.sweden]],
      ['place=Vilnius', [SEED.itpp, SEED.ap4], [SEED.itpp, SEED.ap4]],
      ['place=LT', [SEED.itpp, SEED.ap4], [SEED.itpp, SEED.ap4]],
      ['topic=nato-summit', [SEED.madrid, SEED.ap4], [SEED.madrid, SEED.ap4]],
      ['kind=programme.adopted', [SEED.itpp], [SEED.itpp]],
      ['kind=proposal.shelved&includeRetracted=true', [SEED.liaison], [SEED.liaison]],
    ])('%s', async (filter, now, known) => {
      const order = (list: string[]) => [...list].sort();
      expect(order(ids(await search(filter)))).toEqual(order(now));
      expect(order(ids(await search(`${filter}&knownAt=${beforeConfirmation()}`)))).toEqual(order(known));
    });
  });

  describe("full-text search in each event's own language", () => {
    test('Italian stemming: "collegamento" finds the "ufficio di collegamento", and so does the plural', async () => {
      expect(ids(await search('q=collegamento&includeRetracted=true'))).toEqual([SEED.liaison]);
      expect(ids(await search('q=collegamenti&includeRetracted=true'))).toEqual([SEED.liaison]);
      expect(ids(await search('q=collegamento'))).toEqual([]);
      expect(ids(await search(`q=collegamento&knownAt=${plusMs(liaisonRetractedAt, -1)}`))).toEqual([SEED.liaison]);
    });

    test('results are ranked when q is given', async () => {
      const found = await search('q=vertice NATO');
      expect(ids(found)[0]).toBe(SEED.madrid);
    });

    test('English text uses English stemming', async () => {
      const recorded = await service.http.post('/v1/timelines/japan-nato/events', {
        kind: 'statement.made',
        title: 'Stoltenberg says security challenges are global',
        language: 'en',
        validTime: '2023',
        factuality: 'reported',
      });
      expect(ids(await search('q=challenge'))).toEqual([recorded.body.event.eventId]);
      await service.http.post(`/v1/events/${recorded.body.event.eventId}/retraction`, { reason: 'test event' });
    });
  });

  describe('pagination', () => {
    test('keyset pages neither skip nor repeat an event while writes arrive', async () => {
      const timelineId = `paging-${randomUUID().slice(0, 8)}`;
      await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Paging', defaultLanguage: 'it' });
      const body = (n: number) => ({ kind: 'x.y', title: `E${n}`, language: 'it', validTime: `20${10 + (n % 10)}-0${1 + (n % 9)}`, factuality: 'reported' });
      const existing: string[] = [];
      for (let n = 0; n < 30; n++) existing.push((await service.http.post(`/v1/timelines/${timelineId}/events`, body(n))).body.event.eventId);

      const seen: string[] = [];
      let cursor: string | null = null;
      let n = 100;
      do {
        const page: any = await search(`limit=7${cursor ? `&cursor=${cursor}` : ''}`, timelineId);
        seen.push(...ids(page));
        cursor = page.nextCursor;
        // Between pages: new events everywhere in valid time, and an existing event moved to the start.
        await service.http.post(`/v1/timelines/${timelineId}/events`, body(n++));
        await service.http.post(`/v1/events/${existing[seen.length % 30]}/revisions`, { changes: { validTime: '1999' }, reason: 'moved' });
      } while (cursor);
      expect(seen).toHaveLength(30);
      expect(new Set(seen)).toEqual(new Set(existing));
    });

    test('a cursor of another query is a 400 naming the cursor', async () => {
      const first = await search('limit=2');
      const response = await service.http.get(`/v1/timelines/japan-nato/events?limit=2&factuality=confirmed&cursor=${first.nextCursor}`);
      expect(response.status).toBe(400);
      expect(response.body.errors[0].field).toBe('query.cursor');
    });
  });

  describe('conditional GET of a timeline page: ETag and If-None-Match', () => {
    const event = (title: string) => ({ kind: 'x.y', title, language: 'it', validTime: '2024-05', factuality: 'reported' });
    async function newTimeline(): Promise<string> {
      const timelineId = `etag-${randomUUID().slice(0, 8)}`;
      expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'ETag', defaultLanguage: 'it' })).status).toBe(201);
      expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event('Primo'))).status).toBe(201);
      return timelineId;
    }
    const get = (path: string, etag?: string, headers: Record<string, string> = {}) =>
      service.http.get(path, etag === undefined ? headers : { ...headers, 'if-none-match': etag });

    test('the same read twice: the second, sending the ETag, is a 304 without a body', async () => {
      const path = `/v1/timelines/${await newTimeline()}/events?limit=10`;
      const first = await get(path);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      // Read at now: the next read names a later moment in knownAt, with the same events.
      expect(etag).toMatch(/^W\/"[A-Za-z0-9_-]+"$/);
      expect(first.headers.get('cache-control')).toBe('private, no-cache');
      const again = await get(path, etag);
      expect(again.status).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
      expect((await get(path, `"other", ${etag}`)).status).toBe(304);
      expect((await get(path, '"other"')).status).toBe(200);
    });

    test("a write changes the ETag: a 304 never hides the caller's own write, whichever change it is", async () => {
      const timelineId = await newTimeline();
      const path = `/v1/timelines/${timelineId}/events?limit=10`;
      let etag = (await get(path)).headers.get('etag')!;
      const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, event('Secondo'));
      expect(recorded.status).toBe(201);
      const eventId: string = recorded.body.event.eventId;
      const writes = [
        () => service.http.post(`/v1/events/${eventId}/revisions`, { changes: { title: 'Secondo, rivisto' }, reason: 'typo' }),
        () => service.http.post(`/v1/events/${eventId}/retraction`, { reason: 'never happened' }),
      ];
      // Right after each answer, the copy read before it is not confirmed: the page shows the write.
      let afterRecord = await get(path, etag);
      expect(afterRecord.status).toBe(200);
      expect(afterRecord.body.events.map((found: { title: string }) => found.title)).toContain('Secondo');
      expect(afterRecord.headers.get('etag')).not.toBe(etag);
      etag = afterRecord.headers.get('etag')!;
      for (const [n, write] of writes.entries()) {
        expect((await write()).status).toBe(200);
        afterRecord = await get(path, etag);
        expect(afterRecord.status).toBe(200);
        expect(afterRecord.headers.get('etag')).not.toBe(etag);
        etag = afterRecord.headers.get('etag')!;
        // Both in May 2024: in event id order.
        const titles = afterRecord.body.events.map((found: { title: string }) => found.title).sort();
        expect(titles).toEqual(n === 0 ? ['Primo', 'Secondo, rivisto'] : ['Primo']);
      }
      expect((await get(path, etag)).status).toBe(304);
    });

    test('a write to another timeline leaves the page as it was: still a 304', async () => {
      const path = `/v1/timelines/${await newTimeline()}/events`;
      const etag = (await get(path)).headers.get('etag')!;
      await newTimeline();
      expect((await get(path, etag)).status).toBe(304);
    });

    test('a page pinned to a known time (knownAt, a cursor) has a strong ETag; another query, page or representation another one', async () => {
      const timelineId = await newTimeline();
      await service.http.post(`/v1/timelines/${timelineId}/events`, event('Secondo'));
      const base = `/v1/timelines/${timelineId}/events`;
      const first = await get(`${base}?limit=1`);
      const later = `${base}?limit=1&cursor=${first.body.nextCursor}`;
      const pinned = `${base}?limit=1&knownAt=${first.body.knownAt}`;
      const tags = [];
      for (const [path, headers] of [
        [`${base}?limit=1`, {}],
        [later, {}],
        [pinned, {}],
        [`${base}?limit=2`, {}],
        [`${base}?limit=1&format=timelinejs`, {}],
        [`${base}?limit=1`, { 'accept-language': 'en' }],
      ] as const) {
        const answer = await get(path, undefined, headers);
        expect(answer.status).toBe(200);
        tags.push(answer.headers.get('etag')!);
        expect((await get(path, answer.headers.get('etag')!, headers)).status).toBe(304);
      }
      expect(new Set(tags).size).toBe(tags.length);
      expect(tags[1]).toMatch(/^"[A-Za-z0-9_-]+"$/);
      expect(tags[2]).toMatch(/^"[A-Za-z0-9_-]+"$/);
      // A pinned page is the same bytes while the timeline does not change.
      expect((await get(later)).body).toEqual((await get(later)).body);
    });

    test('If-None-Match for a timeline that does not exist: 404, and a page across timelines has no ETag', async () => {
      expect((await get('/v1/timelines/no-such-etag-timeline/events', '"x"')).status).toBe(404);
      expect((await get('/v1/timelines/no-such-etag-timeline/events', '*')).status).toBe(404);
      expect((await get('/v1/events?limit=1')).headers.get('etag')).toBeNull();
    });
  });

  describe('bad parameters are 400 problems naming the parameter', () => {
    test.each([
      ['from=2023-07-20&to=2023-07-10', 'query.to'],
      ['from=last-year', 'query.from'],
      ['knownAt=yesterday', 'query.knownAt'],
      ['match=touches', 'query.match'],
      ['limit=0', 'query.limit'],
      ['cursor=bm9wZQ', 'query.cursor'],
      ['validAt=2023-07-12&from=2023', 'query.validAt'],
      ['colour=blue', 'query.colour'],
    ])('%s', async (query, field) => {
      const response = await service.http.get(`/v1/timelines/japan-nato/events?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.errors.map((error: any) => error.field)).toContain(field);
    });
  });

  describe('more views', () => {
    test('one actor across timelines: pages in valid-time order, in a role, and as known before a change', async () => {
      const actor = `walker-${randomUUID().slice(0, 8)}`;
      const timelines = [`walk-a-${randomUUID().slice(0, 8)}`, `walk-b-${randomUUID().slice(0, 8)}`];
      for (const timelineId of timelines) await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Walk', defaultLanguage: 'en' });
      const recorded: { eventId: string; validTime: string; role: string }[] = [];
      for (let n = 0; n < 9; n++) {
        const validTime = `20${10 + ((n * 7) % 10)}-0${1 + (n % 9)}`;
        const role = n % 3 === 0 ? 'host' : 'guest';
        const response = await service.http.post(`/v1/timelines/${timelines[n % 2]}/events`, {
          kind: 'meeting.held',
          title: `Meeting ${n}`,
          language: 'en',
          validTime,
          factuality: 'reported',
          actors: [{ id: actor, name: 'Walker', role }],
        });
        recorded.push({ eventId: response.body.event.eventId, validTime, role });
      }
      const moved = await service.http.post(`/v1/events/${recorded[4].eventId}/revisions`, { changes: { validTime: '1999' }, reason: 'moved' });
      expect(moved.status).toBe(200);
      const beforeChanges = plusMs(moved.body.event.revisedAt, -1);
      await service.http.post(`/v1/events/${recorded[5].eventId}/retraction`, { reason: 'wrong actor' });

      const walk = async (query: string) => {
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page: any = (await service.http.get(`/v1/events?${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
          seen.push(...ids(page));
          cursor = page.nextCursor;
        } while (cursor);
        return seen;
      };
      // Valid-time order, ties by id; partial dates start at their first day.
      const inOrder = (events: { eventId: string; validTime: string }[]) =>
        [...events].sort((a, b) => a.validTime.localeCompare(b.validTime) || a.eventId.localeCompare(b.eventId)).map((event) => event.eventId);
      const now = recorded.filter((_, n) => n !== 5).map((event) => (event.eventId === recorded[4].eventId ? { ...event, validTime: '1999' } : event));
      expect(await walk(`actor=${actor}`)).toEqual(inOrder(now));
      expect(await walk(`actor=${actor}&order=desc`)).toEqual(inOrder(now).reverse());
      expect(await walk(`actor=${actor}&role=host`)).toEqual(inOrder(now.filter((event) => event.role === 'host')));
      expect(await walk(`actor=${actor}&knownAt=${beforeChanges}`)).toEqual(inOrder(recorded));
    });

    test('GET /v1/events searches across timelines', async () => {
      const other = `other-${randomUUID().slice(0, 8)}`;
      await service.http.put(`/v1/timelines/${other}`, { title: 'Other', defaultLanguage: 'en' });
      await service.http.post(`/v1/timelines/${other}/events`, {
        kind: 'programme.adopted',
        title: 'Another programme',
        language: 'en',
        validTime: '2024',
        factuality: 'confirmed',
      });
      const found = (await service.http.get('/v1/events?kind=programme.adopted')).body;
      expect(found.events.map((event: any) => event.timelineId).sort()).toEqual(['japan-nato', other].sort());
    });

    test('Accept-Language gives titles in the best available language and keeps the original', async () => {
      const response = await service.http.get('/v1/timelines/japan-nato/events?validAt=2022-06-29', { 'accept-language': 'en-GB, it;q=0.5' });
      expect(response.body.events[0]).toMatchObject({
        title: 'Kishida attends the NATO Madrid summit, the first Japanese leader to do so',
        displayLanguage: 'en',
        original: { language: 'it', title: 'Kishida partecipa al vertice NATO di Madrid, primo leader giapponese a farlo' },
      });
      const italian = await service.http.get('/v1/timelines/japan-nato/events?validAt=2022-06-29', { 'accept-language': 'it' });
      expect(italian.body.events[0]).toMatchObject({ displayLanguage: 'it', title: expect.stringMatching(/^Kishida partecipa/) });
      expect(italian.body.events[0].original).toBeUndefined();
    });

    test('GET /v1/timelines lists every timeline with counts and valid-time bounds', async () => {
      const { body } = await service.http.get('/v1/timelines');
      expect(body.timelines.find((timeline: any) => timeline.timelineId === 'japan-nato')).toMatchObject({
        eventCount: 5,
        validTime: { earliest: '2022-02-24', latest: '2024-03-07' },
      });
    });

    test('the histogram counts current events per year and per month', async () => {
      const byYear = (await service.http.get('/v1/timelines/japan-nato/histogram?by=year')).body;
      expect(byYear.buckets).toEqual([
        { period: '2022', count: 2 },
        { period: '2023', count: 2 },
        { period: '2024', count: 1 },
      ]);
      const byMonth = (await service.http.get(`/v1/timelines/japan-nato/histogram?by=month&knownAt=${plusMs(liaisonRetractedAt, -1)}`)).body;
      expect(byMonth.buckets).toContainEqual({ period: '2023-07', count: 3 });
    });

    test('the TimelineJS export parses back with partial dates in its year/month/day fields', async () => {
      const response = await service.http.get('/v1/timelines/japan-nato/events?includeRetracted=true', { accept: 'application/vnd.timelinejs+json' });
      expect(response.headers.get('content-type')).toMatch(/^application\/vnd\.timelinejs\+json/);
      const document = JSON.parse(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
      expect(document.title.text.headline).toBe('Giappone e NATO');
      const byId = new Map(document.events.map((event: any) => [event.unique_id, event]));
      expect(byId.get(SEED.madrid)).toMatchObject({ start_date: { year: 2022, month: 6, day: 28 }, end_date: { year: 2022, month: 6, day: 30 } });
      expect(byId.get(SEED.liaison)).toMatchObject({ start_date: { year: 2023, month: 7 }, display_date: '2023-07' });
      expect((byId.get(SEED.liaison) as any).start_date.day).toBeUndefined();
      expect((byId.get(SEED.liaison) as any).end_date).toBeUndefined();
      const viaParam = await service.http.get('/v1/timelines/japan-nato/events?format=timelinejs');
      expect(viaParam.headers.get('content-type')).toMatch(/timelinejs/);
    });
  });

  describe('indexes serve the queries', () => {
    /** `avoid`: plan nodes to forbid besides sequential scans (`bitmapscan`, `sort`), to see whether another path exists. */
    const plan = async (query: Parameters<typeof findEventsSql>[0], avoid: string[] = []) => {
      const { text, values } = findEventsSql(query, query.text === undefined ? undefined : `'${query.text}'`);
      const client = await service.pool.connect();
      const settings = ['seqscan', ...avoid].map((node) => `enable_${node}`);
      try {
        // Tiny test tables make sequential scans cheapest; forbid them to see which index the query can use.
        for (const setting of settings) await client.query(`set ${setting} = off`);
        const { rows } = await client.query(`explain (format json) ${text}`, values);
        return JSON.stringify(rows[0]['QUERY PLAN']);
      } finally {
        for (const setting of settings) await client.query(`reset ${setting}`);
        client.release();
      }
    };
    const knownAt = new Date().toISOString();

    /** The plan below the page's `Limit`: what reads the page (the statement re-sorts only the page's rows). */
    const pagePlan = (explained: string): string => {
      const find = (node: any): any => (node['Node Type'] === 'Limit' ? node : (node.Plans ?? []).map(find).find(Boolean));
      return JSON.stringify(find(JSON.parse(explained)[0].Plan) ?? null);
    };

    test('a timeline page walks the (timeline, valid time) index in order, with no sort', async () => {
      const page = pagePlan(await plan({ timelineId: 'japan-nato', knownAt, order: 'asc', limit: 51 }));
      expect(page).toContain('event_revisions_by_timeline_valid_time');
      expect(page).not.toContain('"Sort"');
    });

    test("one actor across every timeline walks that actor's keys in valid-time order, with no sort", async () => {
      // A few rows make a bitmap scan and a sort cheapest; forbidden, the planner shows the ordered walk exists.
      const page = pagePlan(await plan({ actors: ['jp'], role: 'Member', knownAt, order: 'desc', limit: 51 }, ['bitmapscan', 'sort']));
      expect(page).toContain('event_revision_actor_keys_pkey');
      expect(page).not.toContain('"Sort"');
    });

    test("several actors read their revisions through the actors' keys", async () => {
      expect(await plan({ actors: ['jp', 'fr'], knownAt, order: 'asc', limit: 51 })).toContain('event_revision_actor_keys_pkey');
    });

    test('a text search across timelines uses the GIN index over (timeline, search vector)', async () => {
      expect(await plan({ text: 'collegamento', knownAt, order: 'asc', limit: 51 })).toContain('event_revisions_by_timeline_text');
    });
  });
});
