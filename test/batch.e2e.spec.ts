import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { TestTimelineService } from './support/timeline-service';

const event = (title: string, extra: Record<string, unknown> = {}) => ({
  kind: 'programme.adopted',
  title,
  language: 'en',
  validTime: '2023-07-12',
  factuality: 'confirmed',
  ...extra,
});

/** `POST /v1/timelines/{timelineId}/events:batch` against the real broker, projector and PostgreSQL. */
describe('batch appends', () => {
  let service: TestTimelineService;
  const timelineId = `batch-${randomUUID().slice(0, 8)}`;
  const batchUrl = `/v1/timelines/${timelineId}/events:batch`;

  const endOffsetsSum = async () => [...(await service.log.endOffsets(service.config.kafka.commandsTopic)).values()].reduce((a, b) => a + b, 0);
  const version = async () => (await service.http.get(`/v1/timelines/${timelineId}`)).body.version as number;

  beforeAll(async () => {
    service = await TestTimelineService.start({ env: { BATCH_MAX_EVENTS: '3' } });
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Batches', defaultLanguage: 'en' })).status).toBe(201);
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('a batch of several events is answered 200 with a 201 per event, in request order, and every event is readable', async () => {
    const answer = await service.http.post(batchUrl, { events: [event('first'), event('second'), event('third')] });
    expect(answer.status).toBe(200);
    const { results } = answer.body;
    expect(results.map((result: any) => [result.status, result.event.title])).toEqual([
      [201, 'first'],
      [201, 'second'],
      [201, 'third'],
    ]);
    // Decided in request order: one version each, one after the other.
    const versions = results.map((result: any) => result.version);
    expect(versions).toEqual([versions[0], versions[0] + 1, versions[0] + 2]);
    for (const result of results) {
      const read = await service.http.get(`/v1/events/${result.event.eventId}`);
      expect({ status: read.status, title: read.body.title }).toEqual({ status: 200, title: result.event.title });
    }
  });

  test('an event that is rejected gets its problem in its result; the others are recorded', async () => {
    const eventId = randomUUID();
    expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event('exists', { eventId }))).status).toBe(201);
    const answer = await service.http.post(batchUrl, { events: [event('before'), event('again', { eventId }), event('after')] });
    expect(answer.status).toBe(200);
    const [before, again, after] = answer.body.results;
    expect(before).toMatchObject({ status: 201, event: { title: 'before' } });
    expect(again).toMatchObject({ status: 409, problem: { type: '/problems/event-exists', status: 409, commandId: expect.any(String) } });
    expect(after).toMatchObject({ status: 201, event: { title: 'after' } });
    expect((await service.http.get(`/v1/events/${eventId}`)).body.title).toBe('exists');
  });

  test('If-Match is not supported on batches: a 400 naming the header, and nothing is appended', async () => {
    const before = await endOffsetsSum();
    const answer = await service.http.post(batchUrl, { events: [event('checked')] }, { 'if-match': `"${await version()}"` });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: any) => error.field)).toEqual(['header.if-match']);
    expect(await endOffsetsSum()).toBe(before);
  });

  test('more than BATCH_MAX_EVENTS events is a 413 problem, and nothing is appended', async () => {
    const before = await endOffsetsSum();
    const answer = await service.http.post(batchUrl, { events: [event('1'), event('2'), event('3'), event('4')] });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ type: '/problems/payload-too-large', maxEvents: 3 });
    expect(await endOffsetsSum()).toBe(before);
  });

  test('one invalid event makes the whole batch a 400 that names it, and nothing is appended', async () => {
    const before = await endOffsetsSum();
    const answer = await service.http.post(batchUrl, { events: [event('valid'), event('invalid', { validTime: 'yesterday' })] });
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: any) => error.field)).toEqual(['body.events.1.validTime']);
    expect((await service.http.post(batchUrl, { events: [] })).status).toBe(400);
    expect(await endOffsetsSum()).toBe(before);
  });

  test('a retried batch with the same Idempotency-Key gets the same results and records nothing again; another body under the key is a 422', async () => {
    const body = { events: [event('retried one'), event('retried two')] };
    const headers = { 'idempotency-key': `batch-${randomUUID()}` };
    const first = await service.http.post(batchUrl, body, headers);
    expect(first.body.results.map((result: any) => result.status)).toEqual([201, 201]);
    const currentVersion = await version();
    const before = await endOffsetsSum();

    const retried = await service.http.post(batchUrl, body, headers);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual(first.body);
    expect(await endOffsetsSum()).toBe(before);
    expect(await version()).toBe(currentVersion);

    const other = await service.http.post(batchUrl, { events: [event('another')] }, headers);
    expect(other.status).toBe(422);
    expect(other.body.type).toBe('/problems/idempotency-key-reused');
  });
});
