import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { loadSeed } from '../scripts/seed/load-seed';
import { expectEventually } from './support/eventually';
import { reportedStatement } from '@timeline/dev-stack';
import { SseReader } from './support/sse-reader';
import { TestTimelineService } from './support/timeline-service';
import { createAdminApp } from '../apps/projector/src/rebuild/admin.app';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bearer, testToken } from './support/tokens';

const event = reportedStatement;

describe('rebuilding the read models without downtime', () => {
  let service: TestTimelineService;
  let adminApp: NestFastifyApplication;
  const admin = (method: 'GET' | 'POST', payload?: unknown) =>
    adminApp
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url: '/admin/rebuild', payload: payload as any, headers: bearer(testToken({ scope: 'ops' })) });

  beforeAll(async () => {
    service = await TestTimelineService.start();
    adminApp = await createAdminApp(service.projector, service.config);
    await loadSeed(service.http.baseUrl, testToken());
  });
  afterAll(async () => {
    await adminApp?.close();
    await service?.stop();
  });

  test('a rebuild under concurrent writes switches reads over with no lost or repeated event and an equal checksum', async () => {
    const timelineId = 'japan-nato';
    for (let n = 0; n < 150; n++) {
      expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event(n))).status).toBe(201);
    }
    // A live outbox's positions can run ahead of its row count (identity positions, before the counter, skipped
    // the values of rolled-back batches), while a rebuilt schema's counter counts its own rows only.
    await service.pool.query('update outbox_head set last_position = last_position + 1000');
    // A stream client from before the rebuild follows every change across the switch.
    const streamStart = (await service.pool.query<{ head: number }>('select last_position as head from outbox_head')).rows[0].head;
    const stream = await SseReader.open(`${service.http.baseUrl}/v1/stream`);

    // Writers and readers keep going during the whole rebuild.
    const acknowledged: string[] = [];
    const failures: string[] = [];
    let writing = true;
    const writer = (async () => {
      for (let n = 1_000; writing; n++) {
        const body = event(n);
        const response = await service.http.post(`/v1/timelines/${timelineId}/events`, body);
        if (response.status === 201 || response.status === 202) acknowledged.push(body.eventId);
        else failures.push(`write ${response.status}`);
      }
    })();
    const reader = (async () => {
      while (writing) {
        const response = await service.http.get(`/v1/timelines/${timelineId}/events?limit=5`);
        if (response.status !== 200) failures.push(`read ${response.status}`);
      }
    })();

    const refused = await admin('POST', { dropRetired: 'yes' });
    expect(refused.statusCode).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().errors).toEqual([expect.objectContaining({ field: 'body.dropRetired' })]);
    expect((await admin('GET')).json()).toMatchObject({ state: 'idle' });

    const started = await admin('POST', { dropRetired: false });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ state: 'replaying', liveSchema: service.config.database.schema });
    const finished = await expectEventually(
      async () => {
        const status = (await admin('GET')).json();
        expect(['switched', 'failed']).toContain(status.state);
        return status;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    writing = false;
    await Promise.all([writer, reader]);

    expect(finished).toMatchObject({ state: 'switched', error: null, checksum: { equal: true } });
    expect(finished.checksum.live).toEqual(finished.checksum.rebuilt);
    expect(finished.checksum.live.decisions.rows).toBeGreaterThan(150);
    expect(failures).toEqual([]);
    expect(acknowledged.length).toBeGreaterThan(0);

    // Reads now come from the rebuilt schema, under the live name; the old one is kept aside.
    const { rows: schemas } = await service.pool.query<{ nspname: string }>(`select nspname from pg_namespace where nspname like $1 order by nspname`, [
      `${service.config.database.schema}%`,
    ]);
    expect(schemas.map((row) => row.nspname)).toEqual([service.config.database.schema, finished.retiredSchema].sort());
    // The replay was a bulk load (its GIN indexes put off until it caught up): the rebuilt schema has every index the old one had.
    const indexesOf = async (schema: string) =>
      (
        await service.pool.query<{ name: string; definition: string }>(
          `select indexname as name, replace(indexdef, $1, '') as definition from pg_indexes where schemaname = $2 order by indexname`,
          [`${schema}.`, schema],
        )
      ).rows;
    const rebuiltIndexes = await indexesOf(service.config.database.schema);
    expect(rebuiltIndexes.some((index) => index.definition.includes(' USING gin '))).toBe(true);
    expect(rebuiltIndexes).toEqual(await indexesOf(finished.retiredSchema));

    // Every write acknowledged before, during and after the switch is there exactly once.
    const after = event(9_999);
    expect((await service.http.post(`/v1/timelines/${timelineId}/events`, after)).status).toBe(201);
    await service.waitForProjection();
    const { rows } = await service.pool.query<{ event_id: string; n: number }>(
      'select event_id, count(*)::int as n from event_revisions where event_id = any($1::uuid[]) group by event_id',
      [[...acknowledged, after.eventId]],
    );
    expect(rows).toHaveLength(acknowledged.length + 1);
    expect(rows.every((row) => row.n === 1)).toBe(true);
    // Positions go on above every position handed out before the switch; the stream client misses nothing.
    const { rows: retired } = await service.pool.query<{ max: number }>(`select max(position) as max from "${finished.retiredSchema}".outbox`);
    const { rows: streamed } = await service.pool.query<{ position: number; command_id: string }>(
      'select position, command_id from outbox where position > $1 order by position',
      [streamStart],
    );
    const { rows: afterRow } = await service.pool.query<{ position: number }>(`select position from outbox where payload->>'eventId' = $1`, [after.eventId]);
    expect(afterRow[0].position).toBeGreaterThan(retired[0].max);
    await expectEventually(() => expect(stream.changes.map((change) => Number(change.id))).toEqual(streamed.map((row) => row.position)));
    await stream.close();

    const timeline = await service.http.get(`/v1/timelines/${timelineId}`);
    const { rows: counted } = await service.pool.query<{ n: number }>('select count(*)::int as n from events where timeline_id = $1 and not retracted', [
      timelineId,
    ]);
    expect(timeline.body.eventCount).toBe(counted[0].n);
  });
});
