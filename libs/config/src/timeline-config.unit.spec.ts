import { describe, expect, test } from '@jest/globals';
import { ConfigError, TimelineConfig } from './timeline-config';

describe('TimelineConfig.fromEnvironment', () => {
  test('defaults to the local PostgreSQL and Kafka', () => {
    const config = TimelineConfig.fromEnvironment({});
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/timeline');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.commandsTopic).toBe('timeline.commands');
  });

  test('reads lists and numbers', () => {
    const config = TimelineConfig.fromEnvironment({ KAFKA_BROKERS: 'a:1, b:2', HTTP_PORT: '8080', DECISION_TIMEOUT_MS: '250' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.http.port).toBe(8080);
    expect(config.decisionTimeoutMs).toBe(250);
  });

  test('admission: a bound on waiting commands and on batch size, and a batch must fit under the bound', () => {
    expect(TimelineConfig.fromEnvironment({}).admission).toEqual({ maxWaiting: 500, batchMaxEvents: 100 });
    expect(() => TimelineConfig.fromEnvironment({ ADMISSION_MAX_WAITING: '50' })).toThrow(/BATCH_MAX_EVENTS: must not exceed ADMISSION_MAX_WAITING/);
  });

  test('reports every bad variable by name', () => {
    expect.assertions(3);
    try {
      TimelineConfig.fromEnvironment({ HTTP_PORT: 'eighty', KAFKA_BROKERS: 'nohost', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      const message = (error as ConfigError).message;
      expect(message).toMatch(/HTTP_PORT/);
      expect(message).toMatch(/KAFKA_BROKERS/);
      expect(message).toMatch(/DATABASE_URL/);
    }
  });

  test('observability settings: readiness lag bound and trace exporter, off by default', () => {
    const defaults = TimelineConfig.fromEnvironment({});
    expect(defaults.projector.readyMaxLagRecords).toBe(10_000);
    expect(defaults.tracing.exporter).toBe('none');
    expect(() => TimelineConfig.fromEnvironment({ OTEL_TRACES_EXPORTER: 'jaeger', PROJECTOR_READY_MAX_LAG_RECORDS: '-1' })).toThrow(
      /OTEL_TRACES_EXPORTER[\s\S]*PROJECTOR_READY_MAX_LAG_RECORDS|PROJECTOR_READY_MAX_LAG_RECORDS[\s\S]*OTEL_TRACES_EXPORTER/,
    );
  });
});
