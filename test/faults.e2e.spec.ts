import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { commandsTopicSpec, KafkaCommandLog, TopicMisconfigured } from '@timeline/command-log';
import { DECISIONS_CHANNEL, parseNotification } from '@timeline/database';
import { expectEventually } from './support/eventually';
import { reportedStatement, type RunningKafkaBroker, startKafkaBroker, TcpProxy } from '@timeline/dev-stack';
import { testDatabaseServerUrl } from './support/test-database';
import { TestTimelineService } from './support/timeline-service';

const APPEND_TIMEOUT_MS = 2_000;
const TEST_DATABASE_SERVER = new URL(testDatabaseServerUrl());

/**
 * Faults of the log and the database around one write: each is answered
 * within a bound, nothing acknowledged is lost, and the service recovers
 * without a restart.
 */
describe('faults around a write', () => {
  let broker: RunningKafkaBroker;
  let postgres: TcpProxy;
  let service: TestTimelineService;
  const timelineId = `faults-${randomUUID().slice(0, 8)}`;
  const commandStatus = async (commandId: string) => (await service.http.get(`/v1/commands/${commandId}`)).body;
  const projectorReady = async () => {
    const response = await service.projector.getHttpAdapter().getInstance().inject({ url: '/health/ready' });
    return { status: response.statusCode, body: response.json() };
  };

  beforeAll(async () => {
    // A broker of this file's own, since it is killed; PostgreSQL through a proxy this file cuts.
    broker = await startKafkaBroker();
    postgres = await TcpProxy.start({ host: TEST_DATABASE_SERVER.hostname, port: Number(TEST_DATABASE_SERVER.port || 5432) });
    service = await TestTimelineService.start({
      brokers: broker.bootstrap,
      databaseUrl: (direct) => {
        const url = new URL(direct);
        url.hostname = '127.0.0.1';
        url.port = String(postgres.port);
        return url.toString();
      },
      env: { APPEND_TIMEOUT_MS: String(APPEND_TIMEOUT_MS), DECISION_TIMEOUT_MS: '2000' },
    });
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Guasti', defaultLanguage: 'it' })).status).toBe(201);
  });
  afterAll(async () => {
    await postgres?.restore().catch(() => undefined);
    await service?.stop();
    await postgres?.cut();
    await broker?.stop();
  });

  test('Kafka down: a write is answered 503 within the append bound, with Retry-After; once it returns, writes succeed without a restart', async () => {
    broker.kill();
    const key = `outage-${randomUUID()}`;
    const keyedEvent = reportedStatement(1);
    const started = Date.now();
    const [first, second] = await Promise.all([
      service.http.post(`/v1/timelines/${timelineId}/events`, keyedEvent, { 'idempotency-key': key }),
      service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(2)),
    ]);
    const elapsed = Date.now() - started;
    for (const response of [first, second]) {
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.body).toMatchObject({ type: '/problems/log-unavailable', retryable: true });
    }
    // The bound holds, with room for a loaded machine: never the minutes kafkajs's own retries would take.
    expect(elapsed).toBeLessThan(APPEND_TIMEOUT_MS + 3_000);
    // Handed to Kafka or not, each says what a retry may do.
    const advice = (response: typeof first) =>
      response.body.recorded === false
        ? { recorded: false, detail: /not recorded and it is safe to retry/.test(response.body.detail) }
        : {
            recorded: response.body.recorded,
            detail: /may have been recorded/.test(response.body.detail),
            names: response.body.location === `/v1/commands/${response.body.commandId}`,
          };
    for (const response of [first, second]) {
      expect(advice(response)).toEqual(
        response.body.recorded === false ? { recorded: false, detail: true } : { recorded: 'unknown', detail: true, names: true },
      );
    }
    if (first.body.recorded === 'unknown') expect(first.body.detail).toMatch(/same Idempotency-Key/);

    await broker.restart();
    const retried = await expectEventually(
      async () => {
        const response = await service.http.post(`/v1/timelines/${timelineId}/events`, keyedEvent, { 'idempotency-key': key });
        expect(response.status).toBe(201);
        return response;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(await commandStatus(retried.body.commandId)).toMatchObject({ status: 'accepted' });
    const fresh = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(3));
    expect(fresh.status).toBe(201);
  });

  test('PostgreSQL unreachable: a write in the log is answered 202 with Location and a read 503, never 500; decided once it returns', async () => {
    await postgres.cut();
    try {
      const response = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(4), { 'idempotency-key': `pg-${randomUUID()}` });
      expect(response.status).toBe(202);
      expect(response.headers.get('location')).toBe(`/v1/commands/${response.body.commandId}`);
      // Reads need PostgreSQL: a 503 to retry, not a 500.
      const read = await service.http.get(`/v1/timelines/${timelineId}/events`);
      expect(read.status).toBe(503);
      expect(read.headers.get('retry-after')).toBe('1');
      expect(read.body).toMatchObject({ type: '/problems/database-unavailable', retryable: true });
      await postgres.restore();
      await expectEventually(async () => expect(await commandStatus(response.body.commandId)).toMatchObject({ status: 'accepted' }), { timeoutMs: 30_000 });
    } finally {
      await postgres.restore();
    }
  });

  test('a rebalance while PostgreSQL is unreachable does not end the projector; once it returns, writes are decided', async () => {
    // A projector process of its own in the group: a rejection its group-join handler left unhandled would end it.
    await service.startProjectorProcess();
    const kafka = new Kafka({ clientId: `rebalance-${randomUUID()}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const member = kafka.consumer({ groupId: service.config.kafka.consumerGroup, sessionTimeout: 6_000 });
    const joins: number[] = [];
    member.on(member.events.GROUP_JOIN, (event) => joins.push(Object.keys(event.payload.memberAssignment).length));
    await postgres.cut();
    try {
      // Another member joins the projector's group and leaves it: two assignments whose stored offsets cannot be read.
      await member.connect();
      await member.subscribe({ topic: service.config.kafka.commandsTopic });
      await member.run({ autoCommit: false, eachMessage: async () => undefined });
      await expectEventually(async () => expect(joins.length).toBeGreaterThan(0), { timeoutMs: 30_000, intervalMs: 200 });
      await member.disconnect();
    } finally {
      await postgres.restore();
    }
    const after = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(8));
    expect([201, 202]).toContain(after.status);
    await expectEventually(async () => expect(await commandStatus(after.body.commandId)).toMatchObject({ status: 'accepted' }), { timeoutMs: 30_000 });
    // Still running: killing it is refused when it has exited.
    await service.killProjectorProcess();
    // Its partitions go back to the in-process projector once its session times out: wait for that here.
    await expectEventually(
      async () => {
        const probe = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(9));
        expect(probe.status).toBe(201);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  test('a record of a command decided before is notified again, so that whoever waits for it looks it up at once', async () => {
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(5));
    expect(recorded.status).toBe(201);
    const listener = new Client({ connectionString: service.config.database.url });
    await listener.connect();
    try {
      const notified: string[] = [];
      listener.on('notification', (message) => notified.push(...parseNotification(message.payload ?? '').commandIds));
      await listener.query(`listen ${DECISIONS_CHANNEL}`);
      const { rows } = await service.pool.query(`select topic_partition, topic_offset from decisions where command_id = $1`, [recorded.body.commandId]);
      // The same record again, as a producer's retry would write it.
      const kafka = new Kafka({ clientId: `redeliver-${randomUUID()}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: `redeliver-${randomUUID()}` });
      let found!: (record: { key: Buffer | null; value: Buffer | null; headers: Record<string, unknown> }) => void;
      const finding = new Promise<Parameters<typeof found>[0]>((resolve) => (found = resolve));
      await consumer.connect();
      await consumer.subscribe({ topic: service.config.kafka.commandsTopic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (partition === rows[0].topic_partition && Number(message.offset) === Number(rows[0].topic_offset)) {
            found({ key: message.key, value: message.value, headers: message.headers ?? {} });
          }
        },
      });
      const original = await finding;
      await consumer.disconnect();
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: service.config.kafka.commandsTopic,
        messages: [{ key: original.key, value: original.value, headers: original.headers as Record<string, Buffer> }],
      });
      await producer.disconnect();
      await expectEventually(async () => expect(notified).toContain(recorded.body.commandId), { timeoutMs: 15_000 });
      const { rows: decisions } = await service.pool.query(`select count(*)::int as n from decisions where command_id = $1`, [recorded.body.commandId]);
      expect(decisions[0].n).toBe(1);
    } finally {
      await listener.end();
    }
  });

  test('a stored offset past the end of the log (Kafka lost records) stops the partition with a clear error, never skipping what comes', async () => {
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(6));
    expect(recorded.status).toBe(201);
    const { rows } = await service.pool.query<{ partition: number }>(`select topic_partition as partition from decisions where command_id = $1`, [
      recorded.body.commandId,
    ]);
    const { partition } = rows[0];
    const topic = service.config.kafka.commandsTopic;
    // What the read models would hold if Kafka had lost the last thousand records of the partition.
    await service.pool.query(`update consumer_offsets set next_offset = next_offset + 1000 where topic = $1 and partition = $2`, [topic, partition]);
    try {
      const after = await service.http.post(`/v1/timelines/${timelineId}/events`, reportedStatement(7));
      expect(after.status).toBe(202);
      const failing = await expectEventually(async () => {
        const ready = await projectorReady();
        expect(ready.status).toBe(503);
        const [entry] = ready.body.checks.error.projection.failingPartitions;
        expect(entry).toMatchObject({
          partition,
          failureClass: 'log-behind',
          error: expect.stringMatching(/ends at offset \d+ in Kafka but the read models are at \d+/),
        });
        return entry;
      });
      expect(failing.attempts).toBeGreaterThan(0);
      expect(await commandStatus(after.body.commandId)).toMatchObject({ status: 'pending' });
    } finally {
      await service.pool.query(`update consumer_offsets set next_offset = next_offset - 1000 where topic = $1 and partition = $2`, [topic, partition]);
    }
    await expectEventually(async () => expect((await projectorReady()).status).toBe(200), { timeoutMs: 30_000 });
  });

  test('an existing topic set up to lose records is refused at start, naming the topic and the setting', async () => {
    const topic = `timeline.commands.short-${randomUUID().slice(0, 8)}`;
    const kafka = new Kafka({ clientId: `topics-${randomUUID()}`, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '604800000' }] }] });
    await admin.disconnect();
    const log = new KafkaCommandLog({ brokers: [broker.bootstrap], clientId: `topics-${randomUUID()}` });
    try {
      const refused = log.ensureTopics([commandsTopicSpec(topic, 1, 1)]);
      await expect(refused).rejects.toBeInstanceOf(TopicMisconfigured);
      await expect(refused).rejects.toThrow(new RegExp(`${topic.replace(/\./g, '\\.')}: retention.ms is 604800000, must be -1`));
    } finally {
      await log.close();
    }
  });
});
