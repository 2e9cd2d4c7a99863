import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes, randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { Kafka, logLevel } from 'kafkajs';
import { ProjectionLag, ServiceMetrics } from '@timeline/observability';
import { ProjectorMetrics } from '../apps/projector/src/observability/projector-metrics';
import { ProjectionLagReadiness } from '../apps/projector/src/observability/projection-lag.readiness';
import { ProjectorTelemetry } from '../apps/projector/src/observability/projector-telemetry';
import { commandsTopicSpec } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { ConsumerOffsetsRepository, OperationsRepository } from '@timeline/database';
import { expectEventually } from './support/eventually';
import { HttpClient } from './support/http-client';
import { TestTimelineService } from './support/timeline-service';

const event = (title: string) => ({ kind: 'programme.adopted', title, language: 'it', validTime: '2023-07-12', factuality: 'confirmed' });

/** `promtool check metrics` (Debian's `prometheus` package): exit 0 and no lint findings, or the findings. */
function promtoolFindings(exposition: string): string {
  const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (found.error) {
    throw new Error(
      'promtool is not installed, so the metrics cannot be checked. Install it with ' +
        '`apt-get install -y --no-install-recommends prometheus` (Debian), as .ci/run does.',
    );
  }
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return result.status === 0 && !result.stdout.trim() && !result.stderr.trim() ? '' : `${result.stdout}${result.stderr}`.trim();
}

describe('health, metrics and traces of a running service', () => {
  let service: TestTimelineService;
  let projector: NestFastifyApplication;
  let projectorHttp: HttpClient;
  let timelineId: string;

  beforeAll(async () => {
    service = await TestTimelineService.start({ projector: 'none' });
    projector = await service.startProjectorInProcess();
    await projector.listen(0, '127.0.0.1');
    projectorHttp = new HttpClient(await projector.getUrl());

    timelineId = `obs-${randomUUID().slice(0, 8)}`;
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Osservabilità', defaultLanguage: 'it' })).status).toBe(201);
    expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event('Programma adottato'))).status).toBe(201);
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Altro', defaultLanguage: 'it' })).status).toBe(409);
    expect((await service.http.get(`/v1/timelines/${timelineId}`)).status).toBe(200);
    expect((await service.http.get('/no/such/path')).status).toBe(404);
    await service.waitForProjection();
  });
  afterAll(async () => {
    await service?.stop();
  });

  describe('/metrics', () => {
    test('the api counts appends and answers, and times requests by route pattern', async () => {
      const response = await service.http.get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = response.body as string;
      expect(text).toMatch(/^timeline_api_commands_appended_total\{command_type="CreateTimeline"\} 2$/m);
      expect(text).toMatch(/^timeline_api_commands_appended_total\{command_type="RecordEvent"\} 1$/m);
      expect(text).toMatch(/^timeline_api_commands_answered_total\{command_type="CreateTimeline",outcome="accepted",status_class="2xx"\} 1$/m);
      expect(text).toMatch(/^timeline_api_commands_answered_total\{command_type="CreateTimeline",outcome="rejected",status_class="4xx"\} 1$/m);
      // Every write above was decided within its wait: each stage of an append counted once per write.
      for (const stage of ['queued', 'produced', 'notified', 'decision_read']) {
        expect(text).toMatch(new RegExp(`^timeline_api_append_stage_seconds_count\\{stage="${stage}"\\} 3$`, 'm'));
        expect(text).toMatch(new RegExp(`^timeline_api_append_stage_seconds_sum\\{stage="${stage}"\\} [\\d.e+-]+$`, 'm'));
      }
      expect(text).toMatch(/^timeline_http_request_duration_seconds_count\{method="PUT",route="\/v1\/timelines\/:timelineId",status_class="4xx"\} 1$/m);
      expect(text).toMatch(/^timeline_http_request_duration_seconds_count\{method="GET",route="unmatched",status_class="4xx"\} 1$/m);
      expect(text).toMatch(/^timeline_postgres_pool_connections \d+$/m);
      expect(text).toMatch(/^timeline_kafka_producer_connected\{topic="timeline\.commands\.[0-9a-f]+"\} 1$/m);
      expect(text).toMatch(/^timeline_kafka_producer_in_flight_records\{topic="timeline\.commands\.[0-9a-f]+"\} 0$/m);
      expect(text).toMatch(/^# TYPE timeline_stream_connected_clients gauge$/m);
      expect(text).toMatch(/^process_cpu_seconds_total /m);
      // No unbounded label values: ids and raw paths never become labels.
      expect(text).not.toContain(timelineId);
      expect(text).not.toContain('/no/such/path');
    });

    test('the projector counts decisions, times batches and decisions, and reports lag', async () => {
      const text = (await projectorHttp.get('/metrics')).body as string;
      expect(text).toMatch(/^timeline_projector_decisions_total\{command_type="CreateTimeline",outcome="accepted",reason="none"\} 1$/m);
      expect(text).toMatch(/^timeline_projector_decisions_total\{command_type="CreateTimeline",outcome="rejected",reason="timeline_exists"\} 1$/m);
      expect(text).toMatch(/^timeline_projector_decisions_total\{command_type="RecordEvent",outcome="accepted",reason="none"\} 1$/m);
      expect(text).toMatch(/^timeline_projector_decision_latency_seconds_count\{command_type="RecordEvent",outcome="accepted"\} 1$/m);
      expect(text).toMatch(/^timeline_projector_batch_records_count [1-9]\d*$/m);
      expect(text).toMatch(/^timeline_projector_batch_duration_seconds_count [1-9]\d*$/m);
      // Each of the three records counted when fetched (again, should a rebalance deliver it twice); one transaction per committed batch.
      expect(Number(text.match(/^timeline_projector_stage_seconds_count\{stage="fetch"\} (\d+)$/m)?.[1])).toBeGreaterThanOrEqual(3);
      const batches = text.match(/^timeline_projector_batch_duration_seconds_count (\d+)$/m)![1];
      expect(text).toMatch(new RegExp(`^timeline_projector_stage_seconds_count\\{stage="transaction"\\} ${batches}$`, 'm'));
      for (let partition = 0; partition < service.config.kafka.partitions; partition += 1) {
        expect(text).toMatch(new RegExp(`^timeline_projection_lag_records\\{partition="${partition}"\\} 0$`, 'm'));
        expect(text).toMatch(new RegExp(`^timeline_projection_lag_seconds\\{partition="${partition}"\\} 0$`, 'm'));
      }
      expect(text).toMatch(/^timeline_relay_lag_records \d+$/m);
      expect(text).toMatch(/^timeline_relay_lag_seconds [\d.e+-]+$/m);
      expect(text).toMatch(/^timeline_postgres_pool_waiting_clients \d+$/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    });

    test('both apps say whether they are ready, count requests received and 401 answers, and give the pool size', async () => {
      expect((await service.http.withToken(null).get(`/v1/timelines/${timelineId}`)).status).toBe(401);
      const api = (await service.http.get('/metrics')).body as string;
      expect(api).toMatch(/^timeline_ready 1$/m);
      expect(api).toMatch(/^timeline_http_unauthorized_requests_total 1$/m);
      // The two PUTs of beforeAll, received and answered (a request still in flight would be received only).
      expect(api).toMatch(/^timeline_http_requests_received_total\{method="PUT",route="\/v1\/timelines\/:timelineId"\} 2$/m);
      expect(api).toMatch(new RegExp(`^timeline_postgres_pool_max_connections ${service.config.database.poolSize}$`, 'm'));
      // Every load-shedding and admission series from the start, at 0: an alert's rate sees the first refusal.
      expect(api).toMatch(/^timeline_api_requests_limited_total\{limit="event_loop_delay"\} 0$/m);
      expect(api).toMatch(/^timeline_api_commands_refused_total\{reason="append_queue"\} 0$/m);

      const projection = (await projectorHttp.get('/metrics')).body as string;
      expect(projection).toMatch(/^timeline_ready 1$/m);
      // The three commands decided: the next offsets to decide add up to them.
      const nextOffsets = [...projection.matchAll(/^timeline_projection_next_offset\{partition="\d+"\} (\d+)$/gm)].map((match) => Number(match[1]));
      expect(nextOffsets).toHaveLength(service.config.kafka.partitions);
      expect(nextOffsets.reduce((sum, offset) => sum + offset, 0)).toBe(3);
    });

    test('promtool accepts what both apps expose', async () => {
      const api = (await service.http.get('/metrics')).body as string;
      const projection = (await projectorHttp.get('/metrics')).body as string;
      expect({ api: promtoolFindings(api), projector: promtoolFindings(projection) }).toEqual({ api: '', projector: '' });
    });
  });

  describe('readiness', () => {
    test('the projector is ready with its projection caught up', async () => {
      const response = await projectorHttp.get('/health/ready');
      expect(response.status).toBe(200);
      expect(response.body.info.projection).toMatchObject({ status: 'up', lagRecords: 0 });
    });

    test('projection lag over the bound makes the projector not ready, naming the partitions behind', async () => {
      const readinessOn = (topic: string) => {
        const config = TimelineConfig.fromEnvironment({ ...service.env, KAFKA_COMMANDS_TOPIC: topic, PROJECTOR_READY_MAX_LAG_RECORDS: '2' });
        const noFailures = new ProjectorTelemetry(new ProjectorMetrics(new ServiceMetrics()));
        return new ProjectionLagReadiness(
          config,
          new ProjectionLag(config, service.log, new OperationsRepository(service.pool, new ConsumerOffsetsRepository(service.pool))),
          noFailures,
        );
      };
      // Records no projector reads: a topic of their own, with no stored offsets.
      const topic = `timeline.commands.lag-${randomBytes(4).toString('hex')}`;
      await service.log.ensureTopics([commandsTopicSpec(topic, 1, 1)]);
      const appender = await service.log.appender(topic, { lingerMs: 0, maxBatch: 10 });
      await Promise.all([1, 2, 3].map((n) => appender.append({ key: 'k', value: `{"n":${n}}`, headers: {} })));
      await appender.close();
      const behind = await readinessOn(topic).check();
      expect(behind).toEqual({ ready: false, detail: { lagRecords: 3, maxLagRecords: 2, partitionsBehind: [0] } });
      // The live topic, caught up, is within the same bound.
      expect(await readinessOn(service.config.kafka.commandsTopic).check()).toEqual({ ready: true, detail: { lagRecords: 0, maxLagRecords: 2 } });
    });
  });

  describe('trace context', () => {
    async function eventsRecordOf(id: string): Promise<Record<string, string>> {
      const kafka = new Kafka({ clientId: `trace-test-${randomUUID()}`, brokers: service.config.kafka.brokers, logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: `trace-test-${randomUUID()}` });
      await consumer.connect();
      await consumer.subscribe({ topics: [service.config.kafka.eventsTopic], fromBeginning: true });
      const headers: Record<string, string>[] = [];
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.key?.toString() !== id) return;
          headers.push(Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)])));
        },
      });
      try {
        return await expectEventually(
          () => {
            if (headers.length === 0) throw new Error(`no record of ${id} on ${service.config.kafka.eventsTopic} yet`);
            return headers[0];
          },
          { timeoutMs: 30_000, intervalMs: 100 },
        );
      } finally {
        await consumer.disconnect();
      }
    }

    test("the trace id of a request's traceparent reaches its command record and its change on timeline.events", async () => {
      const traceId = randomBytes(16).toString('hex');
      const callerSpanId = randomBytes(8).toString('hex');
      const id = `traced-${randomUUID().slice(0, 8)}`;
      const created = await service.http.put(
        `/v1/timelines/${id}`,
        { title: 'Tracciato', defaultLanguage: 'it' },
        { traceparent: `00-${traceId}-${callerSpanId}-01` },
      );
      expect(created.status).toBe(201);
      const { rows } = await service.pool.query<{ traceparent: string }>('select traceparent from outbox where timeline_id = $1', [id]);
      expect(rows[0].traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      const published = await eventsRecordOf(id);
      expect(published.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      expect(published.ce_type).toBeDefined();
    });

    test('a request without traceparent starts a trace of its own', async () => {
      const id = `untraced-${randomUUID().slice(0, 8)}`;
      expect((await service.http.put(`/v1/timelines/${id}`, { title: 'Senza', defaultLanguage: 'it' })).status).toBe(201);
      const published = await eventsRecordOf(id);
      expect(published.traceparent).toMatch(/^00-(?!0{32})[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    });
  });
});
