import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { TestTimelineService } from './support/timeline-service';

const EVENT = { kind: 'programme.adopted', title: 'Programme adopted', language: 'en', validTime: '2023-07-12', factuality: 'confirmed' };

describe('probe', () => {
  let service: TestTimelineService;
  beforeAll(async () => {
    service = await TestTimelineService.start({});
  });
  afterAll(async () => {
    await service?.stop();
  });
  test('scrape cost', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `probe-${i}-${randomUUID().slice(0, 6)}`);
    for (const id of ids) expect((await service.http.put(`/v1/timelines/${id}`, { title: 'P', defaultLanguage: 'en' })).status).toBe(201);
    for (let i = 0; i < 600; i++) await service.http.post(`/v1/timelines/${ids[i % 12]}/events`, { ...EVENT, eventId: randomUUID() });
    const h = monitorEventLoopDelay({ resolution: 1 });
    for (let round = 0; round < 5; round++) {
      h.reset();
      h.enable();
      const t0 = performance.now();
      const body = (await service.http.get('/metrics')).body as string;
      const t1 = performance.now();
      h.disable();
      console.log(`scrape ${Math.round(t1 - t0)} ms, ${body.length} bytes, ${body.split('\n').length} lines, loop max ${Math.round(h.max / 1e6)} ms`);
    }
  }, 120_000);
});
