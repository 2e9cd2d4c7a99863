import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { COMMAND_HEADERS } from '@timeline/command-log';
import type { Pool } from 'pg';
import { createPool } from '@timeline/database';
import { expectEventually } from './support/eventually';
import { reportedStatement } from '@timeline/dev-stack';
import { TestTimelineService } from './support/timeline-service';

const event = reportedStatement;

/** Dumps of every read model, without what differs by design between two runs (outbox positions, send state). */
async function dumpReadModels(pool: Pool) {
  const dump = async (sql: string) => (await pool.query(sql)).rows;
  return {
    timelines: await dump('select to_jsonb(t) as row from timelines t order by timeline_id'),
    events: await dump('select to_jsonb(e) as row from events e order by event_id'),
    revisions: await dump('select to_jsonb(r) as row from event_revisions r order by event_id, revision'),
    decisions: await dump('select to_jsonb(d) as row from decisions d order by command_id'),
    outbox: await dump(
      `select to_jsonb(o) - 'position' - 'transaction_id' - 'sent_at' as row
       from outbox o order by timeline_id, position`,
    ),
    offsets: await dump('select to_jsonb(c) as row from consumer_offsets c order by partition'),
  };
}

describe('failures: a killed projector, garbage in the log, a rebuild from offset 0', () => {
  let service: TestTimelineService;
  const timelineId = `crash-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    service = await TestTimelineService.start({ projector: 'process', env: { DECISION_TIMEOUT_MS: '1500' } });
    const created = await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Crash test', defaultLanguage: 'it' });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('the projector SIGKILLed in the middle of a stream of writes, then restarted: every acknowledged write appears exactly once', async () => {
    const total = 240;
    const acknowledged: string[] = [];
    const statuses = new Set<number>();
    let next = 0;
    // Cast, not annotated: it is assigned in a callback, which narrowing from `null` does not see.
    let killed = null as Promise<void> | null;
    const writer = async () => {
      while (next < total) {
        const body = event(next++);
        const response = await service.http.post(`/v1/timelines/${timelineId}/events`, body);
        statuses.add(response.status);
        if (response.status === 201 || response.status === 202) acknowledged.push(body.eventId);
        else throw new Error(`unexpected ${response.status}: ${JSON.stringify(response.body)}`);
        if (acknowledged.length === 60 && !killed) {
          killed = service.killProjectorProcess().then(() => service.startProjectorProcess());
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, writer));
    await killed;

    expect(acknowledged).toHaveLength(total);
    // Writes went on while no projector ran: some waited out the bound and were acknowledged with 202.
    expect([...statuses].sort()).toEqual([201, 202]);
    await service.waitForProjection(60_000);
    const { rows } = await service.pool.query<{ event_id: string; revisions: number }>(
      `select e.event_id, count(r.revision)::int as revisions
       from events e join event_revisions r using (event_id)
       where e.timeline_id = $1 group by e.event_id`,
      [timelineId],
    );
    expect(rows.map((row) => row.event_id).sort()).toEqual([...acknowledged].sort());
    expect(rows.every((row) => row.revisions === 1)).toBe(true);
    const timeline = await service.http.get(`/v1/timelines/${timelineId}`);
    expect(timeline.body).toMatchObject({ version: total + 1, eventCount: total });
    const decisions = await service.pool.query(`select outcome, count(*)::int as n from decisions where timeline_id = $1 group by outcome`, [timelineId]);
    expect(decisions.rows).toEqual([{ outcome: 'accepted', n: total + 1 }]);
  });

  test('a garbage record produced straight into timeline.commands is rejected as malformed, and writes after it succeed', async () => {
    const appender = await service.log.appender(service.config.kafka.commandsTopic, { lingerMs: 0, maxBatch: 10 });
    await appender.append({ key: timelineId, value: 'this is not a command {', headers: {} });
    await appender.append({
      key: timelineId,
      value: JSON.stringify({ type: 'RecordEvent', commandId: 'not-a-uuid' }),
      headers: { [COMMAND_HEADERS.commandType]: 'RecordEvent', [COMMAND_HEADERS.schemaVersion]: '1' },
    });
    await appender.close();

    const after = await service.http.post(`/v1/timelines/${timelineId}/events`, event(1));
    expect(after.status).toBe(201);
    const malformed = await expectEventually(async () => {
      const { rows } = await service.pool.query(`select command_type, outcome, reason, detail from decisions where reason = 'malformed' order by topic_offset`);
      expect(rows).toHaveLength(2);
      return rows;
    });
    expect(malformed[0]).toMatchObject({ command_type: 'unknown', outcome: 'rejected', detail: 'value is not JSON' });
    expect(malformed[1]).toMatchObject({ command_type: 'RecordEvent', outcome: 'rejected' });
    expect(malformed[1].detail).toMatch(/commandId/);
  });

  test('read models rebuilt by replaying timeline.commands from offset 0 into an empty schema equal the live ones, decisions included', async () => {
    // Some revisions, a retraction and rejections, so that every table has rows of every kind.
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, event(2));
    const { eventId } = recorded.body.event;
    expect(
      (await service.http.post(`/v1/events/${eventId}/revisions`, { changes: { factuality: 'confirmed' }, reason: 'r', expectedRevision: 1 })).status,
    ).toBe(200);
    expect((await service.http.post(`/v1/events/${eventId}/revisions`, { changes: { title: 'x' }, reason: 'stale', expectedRevision: 1 })).status).toBe(409);
    expect((await service.http.post(`/v1/events/${eventId}/retraction`, { reason: 'duplicate' })).status).toBe(200);
    await service.waitForProjection();

    const rebuildSchema = `rebuild_${randomUUID().slice(0, 8)}`;
    const rebuilder = await service.startProjectorInProcess({
      DATABASE_SCHEMA: rebuildSchema,
      KAFKA_CONSUMER_GROUP: `rebuild-${rebuildSchema}`,
    });
    const rebuilt = createPool({ url: service.config.database.url, schema: rebuildSchema, poolSize: 2, applicationName: 'rebuild-check' });
    try {
      const live = await dumpReadModels(service.pool);
      await expectEventually(async () => expect(await dumpReadModels(rebuilt)).toEqual(live), { timeoutMs: 60_000, intervalMs: 500 });
      expect(live.decisions.length).toBeGreaterThan(240);
      expect(live.outbox.length).toBeGreaterThan(240);
    } finally {
      await rebuilder.close();
      await rebuilt.end();
    }
  });
});
