import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { OutboxRelay } from '../apps/projector/src/relay/outbox-relay';
import { type RunningKafkaBroker, type RunningPostgres, startEmbeddedPostgres, startKafkaBroker } from '@timeline/dev-stack';
import { expectEventually } from './support/eventually';
import { TestTimelineService } from './support/timeline-service';

describe('readiness follows Kafka and PostgreSQL', () => {
  let broker: RunningKafkaBroker;
  let postgres: RunningPostgres;
  let service: TestTimelineService;
  const ready = async () => (await service.http.get('/health/ready')).status;
  const projectorReady = async () => (await service.projector.getHttpAdapter().getInstance().inject({ url: '/health/ready' })).statusCode;
  const relay = () => service.projector.get(OutboxRelay).status();

  beforeAll(async () => {
    // A broker and a PostgreSQL of this file's own, since both are killed and restarted.
    [broker, postgres] = await Promise.all([startKafkaBroker(), startEmbeddedPostgres()]);
    service = await TestTimelineService.start({ brokers: broker.bootstrap, postgresUrl: postgres.url });
  });
  afterAll(async () => {
    await service?.stop();
    await postgres?.stop();
    await broker?.stop();
  });

  test('both apps are ready, then not while Kafka is stopped, then ready again when it returns', async () => {
    expect(await ready()).toBe(200);
    expect(await projectorReady()).toBe(200);
    broker.kill();
    await expectEventually(async () => expect(await ready()).toBe(503), { timeoutMs: 30_000, intervalMs: 500 });
    const down = await service.http.get('/health/ready');
    expect(down.body.checks ?? down.body).toMatchObject({ details: { kafka: { status: 'down' }, postgres: { status: 'up' } } });
    expect(await projectorReady()).toBe(503);
    await broker.restart();
    await expectEventually(async () => expect(await ready()).toBe(200), { timeoutMs: 60_000, intervalMs: 500 });
    await expectEventually(async () => expect(await projectorReady()).toBe(200), { timeoutMs: 60_000, intervalMs: 500 });
  });

  test('not ready while PostgreSQL is unreachable, ready again when it returns, and writes work after; the relay leads again', async () => {
    await postgres.kill();
    await expectEventually(async () => expect(await ready()).toBe(503), { timeoutMs: 30_000, intervalMs: 500 });
    const down = await service.http.get('/health/ready');
    expect(down.body.checks ?? down.body).toMatchObject({ details: { postgres: { status: 'down' } } });
    // The relay's lease went with its connection, and taking it again fails while the database is away.
    await expectEventually(() => expect(relay()).toMatchObject({ leading: false, lastError: expect.any(String) }), { timeoutMs: 30_000 });
    await postgres.restart();
    await expectEventually(async () => expect(await ready()).toBe(200), { timeoutMs: 30_000, intervalMs: 500 });
    // Acknowledged at once; decided as soon as the projector's retry and the decision listener are back.
    const created = await service.http.put('/v1/timelines/after-outage', { title: 'Dopo', defaultLanguage: 'it' });
    expect([201, 202]).toContain(created.status);
    await expectEventually(async () => {
      const status = await service.http.get(`/v1/commands/${created.body.commandId}`);
      expect(status.body).toMatchObject({ status: 'accepted', commandType: 'CreateTimeline' });
    });
    expect((await service.http.get('/v1/timelines/after-outage')).status).toBe(200);
    await expectEventually(
      async () => {
        expect(relay()).toMatchObject({ leading: true, lastError: null });
        const { rows } = await service.pool.query<{ unsent: number }>('select count(*)::int as unsent from outbox where sent_at is null');
        expect(rows[0].unsent).toBe(0);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  });
});
