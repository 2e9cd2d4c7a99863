import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { SAMPLES_AN_OVERLOAD_LASTS } from '../apps/api/src/http/event-loop-pressure';
import { expectEventually } from './support/eventually';
import { TestTimelineService } from './support/timeline-service';

const EVENT = { kind: 'programme.adopted', title: 'Programme adopted', language: 'en', validTime: '2023-07-12', factuality: 'confirmed' };
const MAX_DELAY_MS = 50;
const SAMPLE_INTERVAL_MS = 50;

/** Holds this process's event loop, as a saturated CPU would: runs that never yield, back to back, until stopped. */
function holdEventLoop(runMs: number): { stop: () => void } {
  let holding = true;
  const hold = () => {
    if (!holding) return;
    const until = performance.now() + runMs;
    while (performance.now() < until) {
      // busy: nothing else runs on this loop meanwhile
    }
    // One turn of the loop in between, so that requests (and the shedding's samples) still get through, late.
    setImmediate(hold);
  };
  setImmediate(hold);
  return { stop: () => (holding = false) };
}

/**
 * Load shedding (docs/api.md, Limits): the api runs in this process, so blocking this event loop blocks the
 * api's; what the api sees is its own sample, awaited through its answers, not a sleep.
 */
describe('load shedding', () => {
  let service: TestTimelineService;
  const timelineId = `shedding-${randomUUID().slice(0, 8)}`;
  const readTimeline = async () => (await service.http.get(`/v1/timelines/${timelineId}`)).status;
  const commandsInLog = async () => [...(await service.log.endOffsets(service.config.kafka.commandsTopic)).values()].reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    service = await TestTimelineService.start({
      env: { SHED_MAX_EVENT_LOOP_DELAY_MS: String(MAX_DELAY_MS), SHED_SAMPLE_INTERVAL_MS: String(SAMPLE_INTERVAL_MS) },
    });
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Shedding', defaultLanguage: 'en' })).status).toBe(201);
  });
  afterAll(async () => {
    await service?.stop();
  });

  const eventId = randomUUID();

  test('while the event loop is blocked a write is refused 503 overloaded with Retry-After and not appended, health still answers; after, the same write is recorded', async () => {
    await service.waitForProjection();
    const inLog = await commandsInLog();
    const held = holdEventLoop(150);
    try {
      // Reads are shed too: polling with one changes nothing.
      await expectEventually(async () => expect(await readTimeline()).toBe(503), { intervalMs: 10 });
      const refused = await service.http.post(`/v1/timelines/${timelineId}/events`, { ...EVENT, eventId });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body).toMatchObject({ type: '/problems/overloaded', status: 503, retryable: true, recorded: false });
      expect(refused.body.detail).toContain('SHED_MAX_EVENT_LOOP_DELAY_MS');
      // Liveness is never shed: a busy process is not a dead one.
      expect((await service.http.get('/health/live')).status).toBe(200);
      expect((await service.http.get('/health/ready')).status).toBe(200);
    } finally {
      held.stop();
    }

    await expectEventually(async () => expect(await readTimeline()).toBe(200), { intervalMs: 10 });
    expect(await commandsInLog()).toBe(inLog);
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, { ...EVENT, eventId });
    expect(recorded.status).toBe(201);
    expect(recorded.body).toMatchObject({ event: { eventId } });
    const metrics = (await service.http.get('/metrics')).body as string;
    expect(metrics).toMatch(/timeline_api_requests_limited_total\{limit="event_loop_delay"\} [1-9]/);
  });

  test('one stall of the event loop (a long collection, the process not scheduled) refuses nothing queued behind it', async () => {
    await expectEventually(async () => expect(await readTimeline()).toBe(200), { intervalMs: 10 });
    // Past the memory of the test before's overload, so that a stall here is a stall alone.
    await new Promise((resolve) => setTimeout(resolve, (SAMPLES_AN_OVERLOAD_LASTS + 4) * SAMPLE_INTERVAL_MS));
    const statuses: number[] = [];
    // Stalls of two to twelve samples (whether one makes a sample late depends on where it falls), each
    // followed by requests for the next eight samples.
    for (const stallMs of [2, 8, 12].map((samples) => samples * SAMPLE_INTERVAL_MS)) {
      for (let stall = 0; stall < 4; stall++) {
        const until = performance.now() + stallMs;
        while (performance.now() < until) {
          // busy
        }
        const end = performance.now() + 8 * SAMPLE_INTERVAL_MS;
        while (performance.now() < end) statuses.push(await readTimeline());
      }
    }
    expect(statuses.length).toBeGreaterThan(3);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });
});
