import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { ConfigError, TimelineConfig } from './timeline-config';

/** A key source with the claims it needs: every start needs one (or AUTH_PUBLIC_READ). */
const KEYED = { AUTH_JWKS_URL: 'https://issuer.example/jwks', AUTH_ISSUER: 'https://issuer.example', AUTH_AUDIENCE: 'timeline-api' };

describe('TimelineConfig.fromEnvironment', () => {
  test('defaults to the local PostgreSQL and Kafka', () => {
    const config = TimelineConfig.fromEnvironment(KEYED);
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/timeline');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.kafka.commandsTopic).toBe('timeline.commands');
  });

  test('reads lists and numbers', () => {
    const config = TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_BROKERS: 'a:1, b:2', HTTP_PORT: '8080', DECISION_TIMEOUT_MS: '250' });
    expect(config.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(config.http.port).toBe(8080);
    expect(config.decisionTimeoutMs).toBe(250);
  });

  test('admission: a bound on waiting commands and on batch size, and a batch must fit under the bound', () => {
    expect(TimelineConfig.fromEnvironment(KEYED).admission).toEqual({ maxWaiting: 500, batchMaxEvents: 100 });
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, ADMISSION_MAX_WAITING: '50' })).toThrow(/BATCH_MAX_EVENTS: must not exceed ADMISSION_MAX_WAITING/);
  });

  test('load shedding: on by event-loop delay by default, utilisation off; each bound in range', () => {
    expect(TimelineConfig.fromEnvironment(KEYED).shedding).toEqual({ maxEventLoopDelayMs: 100, maxEventLoopUtilization: 0, sampleIntervalMs: 250 });
    expect(TimelineConfig.fromEnvironment({ ...KEYED, SHED_MAX_EVENT_LOOP_UTILIZATION: '0.95', SHED_MAX_EVENT_LOOP_DELAY_MS: '0' }).shedding).toMatchObject({
      maxEventLoopDelayMs: 0,
      maxEventLoopUtilization: 0.95,
    });
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, SHED_MAX_EVENT_LOOP_UTILIZATION: '1.5' })).toThrow(/SHED_MAX_EVENT_LOOP_UTILIZATION/);
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, SHED_SAMPLE_INTERVAL_MS: '5' })).toThrow(/SHED_SAMPLE_INTERVAL_MS/);
  });

  test('read replicas: none by default, a comma-separated list of postgres URLs, lag bounds and waits in range', () => {
    expect(TimelineConfig.fromEnvironment(KEYED).readReplicas).toEqual({
      urls: [],
      maxLagSeconds: 5,
      maxLagBytes: 16_777_216,
      checkIntervalMs: 1_000,
      consistencyWaitMs: 100,
    });
    const two = TimelineConfig.fromEnvironment({
      ...KEYED,
      DATABASE_READ_URLS: 'postgres://reader@replica-a:5432/timeline, postgresql://reader@replica-b:5433/timeline',
      READ_REPLICA_MAX_LAG_SECONDS: '0.5',
      READ_REPLICA_MAX_LAG_BYTES: '1048576',
      READ_REPLICA_CHECK_INTERVAL_MS: '250',
      READ_CONSISTENCY_WAIT_MS: '0',
    });
    expect(two.readReplicas).toEqual({
      urls: ['postgres://reader@replica-a:5432/timeline', 'postgresql://reader@replica-b:5433/timeline'],
      maxLagSeconds: 0.5,
      maxLagBytes: 1_048_576,
      checkIntervalMs: 250,
      consistencyWaitMs: 0,
    });
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, DATABASE_READ_URLS: 'postgres://a/timeline,mysql://b/timeline' })).toThrow(
      /DATABASE_READ_URLS\.1: must be a list of postgres:\/\/ URLs/,
    );
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, READ_REPLICA_CHECK_INTERVAL_MS: '10' })).toThrow(/READ_REPLICA_CHECK_INTERVAL_MS/);
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, READ_CONSISTENCY_WAIT_MS: '-1' })).toThrow(/READ_CONSISTENCY_WAIT_MS/);
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, READ_REPLICA_MAX_LAG_BYTES: 'lots' })).toThrow(/READ_REPLICA_MAX_LAG_BYTES/);
  });

  test('reports every bad variable by name', () => {
    expect.assertions(3);
    try {
      TimelineConfig.fromEnvironment({ ...KEYED, HTTP_PORT: 'eighty', KAFKA_BROKERS: 'nohost', DATABASE_URL: 'mysql://x' });
    } catch (error) {
      const message = (error as ConfigError).message;
      expect(message).toMatch(/HTTP_PORT/);
      expect(message).toMatch(/KAFKA_BROKERS/);
      expect(message).toMatch(/DATABASE_URL/);
    }
  });

  test('observability settings: readiness lag bound and trace exporter, off by default', () => {
    const defaults = TimelineConfig.fromEnvironment(KEYED);
    expect(defaults.projector.readyMaxLagRecords).toBe(10_000);
    expect(defaults.tracing.exporter).toBe('none');
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, OTEL_TRACES_EXPORTER: 'jaeger', PROJECTOR_READY_MAX_LAG_RECORDS: '-1' })).toThrow(
      /OTEL_TRACES_EXPORTER[\s\S]*PROJECTOR_READY_MAX_LAG_RECORDS|PROJECTOR_READY_MAX_LAG_RECORDS[\s\S]*OTEL_TRACES_EXPORTER/,
    );
  });

  test('Kafka security: none by default; SASL needs a user and a password; TLS may add a CA file', () => {
    expect(TimelineConfig.fromEnvironment(KEYED).kafka.security).toEqual({});
    const scram = TimelineConfig.fromEnvironment({
      ...KEYED,
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'api',
      KAFKA_SASL_PASSWORD: 's3cret',
      KAFKA_SSL: 'true',
    });
    expect(scram.kafka.security).toEqual({ sasl: { mechanism: 'scram-sha-256', username: 'api', password: 's3cret' }, ssl: true });
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'api' })).toThrow(
      /KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=scram-sha-512/,
    );
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_SASL_PASSWORD: 'forgotten' })).toThrow(
      /KAFKA_SASL_PASSWORD: set, but KAFKA_SASL_MECHANISM is none/,
    );
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_SASL_MECHANISM: 'gssapi' })).toThrow(/KAFKA_SASL_MECHANISM/);
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem' })).toThrow(ConfigError);
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_SSL_CA_FILE: __filename })).toThrow(/KAFKA_SSL_CA_FILE: set, but KAFKA_SSL is false/);
    const withCa = TimelineConfig.fromEnvironment({ ...KEYED, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: __filename });
    expect(withCa.kafka.security.ssl).toEqual({ ca: [expect.stringContaining('Kafka security')] });
  });

  test('bearer tokens: start-up refuses to run without a key source, unless reads alone are opened', () => {
    expect(() => TimelineConfig.fromEnvironment({})).toThrow(/AUTH_JWKS_URL: no key to verify bearer tokens/);
    expect(TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true' }).auth).toMatchObject({ jwksUrl: null, publicKeyPem: null, publicRead: true });
    expect(() => TimelineConfig.fromEnvironment({ AUTH_JWKS_URL: 'https://issuer.example/jwks' })).toThrow(
      /AUTH_ISSUER: required[\s\S]*AUTH_AUDIENCE: required/,
    );
    expect(() => TimelineConfig.fromEnvironment({ ...KEYED, AUTH_PUBLIC_KEY: 'x' })).toThrow(/AUTH_PUBLIC_KEY: set together with AUTH_JWKS_URL/);
  });

  test('bearer tokens: a configured public key must be a PEM public key, read from the variable or a file', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const claims = { AUTH_ISSUER: 'dev', AUTH_AUDIENCE: 'timeline-api' };
    expect(TimelineConfig.fromEnvironment({ ...claims, AUTH_PUBLIC_KEY: pem }).auth.publicKeyPem).toBe(pem);
    expect(() => TimelineConfig.fromEnvironment({ ...claims, AUTH_PUBLIC_KEY: 'not a key' })).toThrow(/AUTH_PUBLIC_KEY: not a PEM public key/);
    expect(() => TimelineConfig.fromEnvironment({ ...claims, AUTH_PUBLIC_KEY_FILE: '/nonexistent/key.pem' })).toThrow(/AUTH_PUBLIC_KEY_FILE: cannot read/);
  });

  test('the admin listener is on loopback, port 3002, unless configured', () => {
    expect(TimelineConfig.fromEnvironment(KEYED).admin).toEqual({ host: '127.0.0.1', port: 3002 });
    expect(TimelineConfig.fromEnvironment({ ...KEYED, ADMIN_HOST: '0.0.0.0', ADMIN_PORT: '9000' }).admin).toEqual({ host: '0.0.0.0', port: 9000 });
  });
});
