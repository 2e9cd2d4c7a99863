/**
 * The typed client (@timeline/client) against the real service: typed answers, Idempotency-Key and
 * If-Match, a 202 followed until the command is decided, and rejections as problems. The seed loader
 * uses it too (test/start-script.e2e.spec.ts and every spec that loads the seed).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TimelineClient, TimelineProblem } from '@timeline/client';
import { TestTimelineService } from './support/timeline-service';
import { bearer, testToken } from './support/tokens';

const event = {
  kind: 'programme.adopted',
  title: 'Giappone e NATO adottano il programma di partenariato su misura',
  language: 'it',
  validTime: '2023-07-12',
  factuality: 'confirmed',
} as const;

describe('the typed client', () => {
  let service: TestTimelineService;
  let client: TimelineClient;

  beforeAll(async () => {
    // Short decision bound, so that a write made while the projector is away is answered 202.
    service = await TestTimelineService.start({ projector: 'none', env: { DECISION_TIMEOUT_MS: '300' } });
    await service.startProjectorInProcess();
    // A function, asked before each request, as a caller renewing short-lived tokens passes it.
    client = new TimelineClient({ baseUrl: service.http.baseUrl, pollIntervalMs: 50, accessToken: async () => testToken() });
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('writes and reads with typed answers; a retry with the same Idempotency-Key gets the first answer', async () => {
    const timelineId = `client-${randomUUID().slice(0, 8)}`;
    const created = await client.createTimeline(timelineId, { title: 'Client', defaultLanguage: 'it' });
    expect(created.timelineId).toBe(timelineId);
    const key = randomUUID();
    const recorded = await client.recordEvent(timelineId, event, { idempotencyKey: key, expectedVersion: created.version });
    expect(recorded.event.title).toBe(event.title);
    const again = await client.recordEvent(timelineId, event, { idempotencyKey: key, expectedVersion: created.version });
    expect(again).toEqual(recorded);
    const { data } = await client.api.GET('/v1/events/{eventId}', { params: { path: { eventId: recorded.event.eventId } } });
    expect(data?.revision).toBe(1);
  });

  test('a stale expectedVersion is a TimelineProblem with the 409 and its problem details', async () => {
    const timelineId = `client-${randomUUID().slice(0, 8)}`;
    await client.createTimeline(timelineId, { title: 'Client', defaultLanguage: 'it' });
    await client.recordEvent(timelineId, event);
    const stale = client.recordEvent(timelineId, event, { expectedVersion: 1 });
    await expect(stale).rejects.toBeInstanceOf(TimelineProblem);
    await expect(stale).rejects.toMatchObject({ status: 409, problem: { type: expect.stringContaining('version-conflict') } });
  });

  test('a write answered 202 is followed until decided and answered as it would have been', async () => {
    const timelineId = `client-${randomUUID().slice(0, 8)}`;
    await client.createTimeline(timelineId, { title: 'Client', defaultLanguage: 'it' });
    await service.stopProjectorInProcess();
    const pending = await fetch(`${service.http.baseUrl}/v1/timelines/${timelineId}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'followed', ...bearer() },
      body: JSON.stringify(event),
    });
    expect(pending.status).toBe(202);
    const answered = client.recordEvent(timelineId, event, { idempotencyKey: 'followed' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await service.startProjectorInProcess();
    const recorded = await answered;
    expect(recorded.event.timelineId).toBe(timelineId);
    expect(recorded.version).toBe(2);
  });

  test('sends its access token as a bearer token: a string works too, and none is refused 401', async () => {
    const withString = new TimelineClient({ baseUrl: service.http.baseUrl, accessToken: testToken({ scope: 'timelines:read' }) });
    expect((await withString.api.GET('/v1/timelines')).response.status).toBe(200);
    const without = new TimelineClient({ baseUrl: service.http.baseUrl });
    await expect(without.createTimeline('client-anonymous', { title: 'Anonymous', defaultLanguage: 'it' })).rejects.toMatchObject({
      status: 401,
      problem: { type: '/problems/unauthorized' },
    });
  });
});
