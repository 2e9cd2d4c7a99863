import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { nameBasedUuid } from '@timeline/domain';
import { expectEventually } from './support/eventually';
import type { HttpResult } from './support/http-client';
import { TestTimelineService } from './support/timeline-service';

const EVENT = { kind: 'programme.adopted', title: 'Programme adopted', language: 'en', validTime: '2023-07-12', factuality: 'confirmed' };

/**
 * Past ADMISSION_MAX_WAITING commands held by one api process, a write is
 * refused 503 `overloaded` at once, before it is appended. No projector runs
 * at first, so the admitted writes wait (DECISION_TIMEOUT_MS is long) and hold
 * their slots for as long as the test needs: nothing here depends on timing.
 */
describe('admission control', () => {
  let service: TestTimelineService;
  const timelineId = `admission-${randomUUID().slice(0, 8)}`;
  const admitted: Promise<HttpResult>[] = [];

  const endOffsetsSum = async () => [...(await service.log.endOffsets(service.config.kafka.commandsTopic)).values()].reduce((a, b) => a + b, 0);
  const metrics = async () => (await service.http.get('/metrics')).body as string;

  beforeAll(async () => {
    service = await TestTimelineService.start({
      projector: 'none',
      env: { ADMISSION_MAX_WAITING: '2', BATCH_MAX_EVENTS: '2', DECISION_TIMEOUT_MS: '60000' },
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('two writes wait for their decision; the third is answered 503 overloaded with Retry-After at once and is not appended', async () => {
    admitted.push(service.http.put(`/v1/timelines/${timelineId}`, { title: 'Admission', defaultLanguage: 'en' }));
    // The timeline's creation is in the log before the event that needs it is sent.
    await expectEventually(async () => expect(await endOffsetsSum()).toBe(1));
    admitted.push(service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, { 'idempotency-key': 'second' }));
    await expectEventually(async () => expect(await endOffsetsSum()).toBe(2));
    expect(await metrics()).toContain('timeline_api_commands_waiting 2');

    const refused = await service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, { 'idempotency-key': 'third' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body).toMatchObject({ type: '/problems/overloaded', status: 503, retryable: true, recorded: false });

    const batch = await service.http.post(`/v1/timelines/${timelineId}/events:batch`, { events: [EVENT] });
    expect(batch.status).toBe(503);
    expect(batch.body).toMatchObject({ type: '/problems/overloaded', recorded: false });

    expect(await endOffsetsSum()).toBe(2);
    expect(await metrics()).toContain('timeline_api_commands_refused_total{reason="waiting_decisions"} 2');
    expect((await service.http.get('/ops/status')).body.admission).toEqual({ waitingCommands: 2, maxWaiting: 2, refusedCommands: 2 });
  });

  test('once decisions come, the waiting writes are answered with them, and the refused command never reaches the read models', async () => {
    await service.startProjectorInProcess();
    const [created, recorded] = await Promise.all(admitted);
    expect(created.status).toBe(201);
    expect(recorded.status).toBe(201);
    await service.waitForProjection();

    const refusedCommand = nameBasedUuid(`idempotency:${timelineId}:third`);
    expect((await service.http.get(`/v1/commands/${refusedCommand}`)).body).toEqual({ commandId: refusedCommand, status: 'pending' });
    expect((await service.http.get(`/v1/timelines/${timelineId}`)).body).toMatchObject({ eventCount: 1, version: 2 });
    expect(await endOffsetsSum()).toBe(2);
    expect(await metrics()).toContain('timeline_api_commands_waiting 0');
  });

  test('with slots free again, writes are admitted', async () => {
    const answer = await service.http.post(`/v1/timelines/${timelineId}/events`, EVENT, { 'idempotency-key': 'third' });
    expect(answer.status).toBe(201);
  });
});
