import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestTimelineService } from './support/timeline-service';

const madridSummit = {
  kind: 'summit.attended',
  title: 'Kishida partecipa al vertice NATO di Madrid',
  summary: 'Primo leader giapponese a partecipare a un vertice NATO.',
  language: 'it',
  validTime: '2022-06-28/2022-06-30',
  actors: [{ id: 'fumio-kishida', name: 'Fumio Kishida', role: 'attendee' }],
  places: [{ name: 'Madrid', country: 'ES' }],
  topics: ['nato', 'indo-pacific'],
  sources: [{ url: 'https://english.kyodonews.net/', publisher: 'Kyodo News', language: 'en', publishedAt: '2023-07-11' }],
  factuality: 'confirmed',
};

const itpp = {
  kind: 'programme.adopted',
  title: 'Giappone e NATO adottano il programma di partenariato su misura',
  language: 'it',
  validTime: '2023-07-12',
  places: [{ name: 'Vilnius', country: 'LT' }],
  factuality: 'expected',
};

describe('the write path through HTTP, Kafka and PostgreSQL', () => {
  let service: TestTimelineService;
  let timelineId: string;

  beforeAll(async () => {
    service = await TestTimelineService.start();
  });
  afterAll(async () => {
    await service?.stop();
  });

  async function createTimeline(): Promise<string> {
    const id = `japan-nato-${randomUUID().slice(0, 8)}`;
    const response = await service.http.put(`/v1/timelines/${id}`, { title: 'Giappone e NATO', defaultLanguage: 'it' });
    expect(response.status).toBe(201);
    return id;
  }

  beforeAll(async () => {
    timelineId = await createTimeline();
  });

  describe('timelines', () => {
    test('PUT creates a timeline (201), then answers 200 for the same content and 409 for other content', async () => {
      const id = `t-${randomUUID().slice(0, 8)}`;
      const created = await service.http.put(`/v1/timelines/${id}`, { title: 'Uno', defaultLanguage: 'it' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ timelineId: id, title: 'Uno', version: 1 });
      expect(created.headers.get('etag')).toBe('"1"');
      const again = await service.http.put(`/v1/timelines/${id}`, { title: 'Uno', defaultLanguage: 'it' });
      expect(again.status).toBe(200);
      const other = await service.http.put(`/v1/timelines/${id}`, { title: 'Due', defaultLanguage: 'it' });
      expect(other.status).toBe(409);
      expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(other.body).toMatchObject({ type: '/problems/timeline-exists', status: 409 });
    });

    test('a timeline id that is not a lowercase slug is a 400 naming it', async () => {
      const response = await service.http.put('/v1/timelines/Japan_NATO', { title: 'x', defaultLanguage: 'it' });
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field: 'path.timelineId' })]);
    });

    test('recording into a timeline that does not exist is a 404', async () => {
      const response = await service.http.post('/v1/timelines/no-such-timeline/events', madridSummit);
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({ type: '/problems/timeline-not-found' });
    });
  });

  describe('record, revise, retract', () => {
    test('the whole life of an event, read back through the API', async () => {
      const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, itpp);
      expect(recorded.status).toBe(201);
      expect(recorded.body).toMatchObject({ revision: 1, event: { ...itpp, revision: 1, retracted: false } });
      const { eventId } = recorded.body.event;
      expect(recorded.body.commandId).toEqual(expect.any(String));

      const revised = await service.http.post(`/v1/events/${eventId}/revisions`, {
        changes: { factuality: 'confirmed', sources: [{ url: 'https://www.mofa.go.jp/', publisher: 'MOFA', language: 'en' }] },
        reason: 'Adopted on 12 July 2023 according to the Japanese foreign ministry',
        expectedRevision: 1,
      });
      expect(revised.status).toBe(200);
      expect(revised.body).toMatchObject({ revision: 2, version: recorded.body.version + 1, event: { factuality: 'confirmed' } });

      const retracted = await service.http.post(`/v1/events/${eventId}/retraction`, { reason: 'Recorded twice', expectedRevision: 2 });
      expect(retracted.status).toBe(200);
      expect(retracted.body).toMatchObject({ revision: 3, event: { retracted: true, retractionReason: 'Recorded twice' } });

      const current = await service.http.get(`/v1/events/${eventId}`);
      expect(current.body).toMatchObject({ eventId, revision: 3, retracted: true, factuality: 'confirmed' });

      const revisions = await service.http.get(`/v1/events/${eventId}/revisions`);
      expect(revisions.body.revisions.map((r: any) => [r.revision, r.changeType, r.reason])).toEqual([
        [1, 'EventRecorded', null],
        [2, 'EventRevised', 'Adopted on 12 July 2023 according to the Japanese foreign ministry'],
        [3, 'EventRetracted', 'Recorded twice'],
      ]);
      expect(revisions.body.revisions[1].changed).toHaveProperty('factuality', 'confirmed');
      expect(revisions.body.revisions[1].previous).toEqual({ factuality: 'expected', sources: [] });
      expect(revisions.body.revisions[0].knownTo).toBe(revisions.body.revisions[1].knownFrom);
      expect(revisions.body.revisions[2].knownTo).toBeNull();

      const again = await service.http.post(`/v1/events/${eventId}/retraction`, { reason: 'again' });
      expect(again.status).toBe(422);
      expect(again.body).toMatchObject({ type: '/problems/event-retracted' });
      const reviseRetracted = await service.http.post(`/v1/events/${eventId}/revisions`, { changes: { title: 'x' }, reason: 'y' });
      expect(reviseRetracted.status).toBe(422);

      const page = await service.http.get(`/v1/timelines/${timelineId}/events`);
      expect(page.body.events.map((event: any) => event.eventId)).not.toContain(eventId);
    });

    test('the timeline lists current events in valid-time order, page by page with an opaque cursor', async () => {
      const id = await createTimeline();
      const validTimes = ['2024-03-07', '2022', '2023-07', '2022-02-24', '2023-07-12'];
      for (const validTime of validTimes) {
        const response = await service.http.post(`/v1/timelines/${id}/events`, { ...itpp, validTime });
        expect(response.status).toBe(201);
      }
      const first = await service.http.get(`/v1/timelines/${id}/events?limit=3`);
      expect(first.body.events.map((event: any) => event.validTime)).toEqual(['2022', '2022-02-24', '2023-07']);
      const second = await service.http.get(`/v1/timelines/${id}/events?limit=3&cursor=${first.body.nextCursor}`);
      expect(second.body.events.map((event: any) => event.validTime)).toEqual(['2023-07-12', '2024-03-07']);
      expect(second.body.nextCursor).toBeNull();

      const foreign = await service.http.get(`/v1/timelines/${timelineId}/events?cursor=${first.body.nextCursor}`);
      expect(foreign.status).toBe(400);
      expect(foreign.body.errors[0].field).toBe('query.cursor');

      const timeline = await service.http.get(`/v1/timelines/${id}`);
      expect(timeline.body).toMatchObject({ version: 6, eventCount: 5, validTime: { earliest: '2022-01-01', latest: '2024-03-07' } });
      expect(timeline.headers.get('etag')).toBe('"6"');
    });

    test('revising or retracting an unknown event is a 404', async () => {
      const revise = await service.http.post(`/v1/events/${randomUUID()}/revisions`, { changes: { title: 'x' }, reason: 'y' });
      expect(revise.status).toBe(404);
      expect(revise.body).toMatchObject({ type: '/problems/event-not-found' });
      const retract = await service.http.post(`/v1/events/${randomUUID()}/retraction`, { reason: 'y' });
      expect(retract.status).toBe(404);
    });
  });

  describe('idempotency and concurrency', () => {
    test('a retry with the same Idempotency-Key gets the first answer and records one event', async () => {
      const key = `seed-${randomUUID()}`;
      const headers = { 'idempotency-key': key };
      const first = await service.http.post(`/v1/timelines/${timelineId}/events`, madridSummit, headers);
      const retry = await service.http.post(`/v1/timelines/${timelineId}/events`, madridSummit, headers);
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      const { rows } = await service.pool.query('select count(*)::int as n from events where event_id = $1', [first.body.event.eventId]);
      expect(rows[0].n).toBe(1);
      const decisions = await service.pool.query('select count(*)::int as n from decisions where command_id = $1', [first.body.commandId]);
      expect(decisions.rows[0].n).toBe(1);
    });

    test('concurrent retries with one Idempotency-Key record one event', async () => {
      const headers = { 'idempotency-key': `burst-${randomUUID()}` };
      const answers = await Promise.all(Array.from({ length: 5 }, () => service.http.post(`/v1/timelines/${timelineId}/events`, madridSummit, headers)));
      expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201]);
      expect(new Set(answers.map((answer) => answer.body.event.eventId)).size).toBe(1);
      const { rows } = await service.pool.query('select count(*)::int as n from events where event_id = $1', [answers[0].body.event.eventId]);
      expect(rows[0].n).toBe(1);
    });

    test('the same Idempotency-Key with another body is a 422 and records nothing', async () => {
      const headers = { 'idempotency-key': `reuse-${randomUUID()}` };
      const first = await service.http.post(`/v1/timelines/${timelineId}/events`, madridSummit, headers);
      expect(first.status).toBe(201);
      const before = await service.http.get(`/v1/timelines/${timelineId}`);
      const reused = await service.http.post(`/v1/timelines/${timelineId}/events`, { ...madridSummit, title: 'Altro' }, headers);
      expect(reused.status).toBe(422);
      expect(reused.body).toMatchObject({ type: '/problems/idempotency-key-reused' });
      const after = await service.http.get(`/v1/timelines/${timelineId}`);
      expect(after.body.version).toBe(before.body.version);
    });

    test('twenty concurrent revisions with the same expectedRevision: exactly one is accepted, the rest are 409', async () => {
      const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, itpp);
      const { eventId } = recorded.body.event;
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          service.http.post(`/v1/events/${eventId}/revisions`, {
            changes: { summary: `Versione ${n}` },
            reason: `concurrent edit ${n}`,
            expectedRevision: 1,
          }),
        ),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([200, ...Array(19).fill(409)]);
      expect(answers.filter((answer) => answer.status === 409).every((answer) => answer.body.type === '/problems/revision-conflict')).toBe(true);
      const revisions = await service.http.get(`/v1/events/${eventId}/revisions`);
      expect(revisions.body.revisions).toHaveLength(2);
    });

    test('If-Match with a stale timeline version is a 409; with the current one the write goes through', async () => {
      const id = await createTimeline();
      const stale = await service.http.post(`/v1/timelines/${id}/events`, itpp, { 'if-match': '"7"' });
      expect(stale.status).toBe(409);
      expect(stale.body).toMatchObject({ type: '/problems/version-conflict' });
      const current = await service.http.post(`/v1/timelines/${id}/events`, itpp, { 'if-match': '"1"' });
      expect(current.status).toBe(201);
      expect(current.headers.get('etag')).toBe('"2"');
    });
  });

  describe('bad input changes nothing', () => {
    test('unknown fields and wrong types are a 400 naming each field', async () => {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, {
        ...itpp,
        validTime: '2023-13',
        factuality: 'certain',
        colour: 'blue',
      });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.body.errors.map((error: any) => error.field).sort()).toEqual(['body.colour', 'body.factuality', 'body.validTime']);
    });

    test('a body that is not JSON is a 400 problem', async () => {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, '{"kind": ');
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    });

    test('a body over the size limit is a 413 problem', async () => {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, { ...itpp, summary: 'x'.repeat(1_100_000) });
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ type: '/problems/payload-too-large', status: 413 });
    });

    test('a bad If-Match or Idempotency-Key header is a 400 naming the header', async () => {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, itpp, { 'if-match': 'latest' });
      expect(response.status).toBe(400);
      expect(response.body.errors[0].field).toBe('header.if-match');
    });
  });

  describe('commands and health', () => {
    test('GET /v1/commands/{id} gives the decision of a command', async () => {
      const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, itpp);
      const status = await service.http.get(`/v1/commands/${recorded.body.commandId}`);
      expect(status.body).toMatchObject({ status: 'accepted', commandType: 'RecordEvent', revision: 1 });
      const unknown = await service.http.get(`/v1/commands/${randomUUID()}`);
      expect(unknown.body).toMatchObject({ status: 'pending' });
    });

    test('the api is live and ready when PostgreSQL and Kafka answer', async () => {
      expect((await service.http.get('/health/live')).status).toBe(200);
      const ready = await service.http.get('/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ok', details: { postgres: { status: 'up' }, kafka: { status: 'up' } } });
    });
  });
});
