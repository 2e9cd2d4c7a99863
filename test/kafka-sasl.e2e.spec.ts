/**
 * The Kafka clients' security settings against the run's broker, which the global setup gives a
 * SASL_PLAINTEXT and a SASL_SSL listener taking SCRAM beside its plain one: the whole write path through
 * SCRAM, then through SCRAM over TLS with a private CA; a wrong password and an untrusted certificate are
 * refused with an answer rather than a hang.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { KafkaCommandLog } from '@timeline/command-log';
import { expectEventually } from './support/eventually';
import { TestTimelineService } from './support/timeline-service';

const saslBrokers = process.env.TEST_KAFKA_SASL_BROKERS;
const username = process.env.TEST_KAFKA_SCRAM_USER;
const password = process.env.TEST_KAFKA_SCRAM_PASSWORD;
const saslSslBrokers = process.env.TEST_KAFKA_SASL_SSL_BROKERS;
const caFile = process.env.TEST_KAFKA_CA_FILE;

async function recordOneEvent(service: TestTimelineService, prefix: string): Promise<void> {
  const timelineId = `${prefix}-${randomUUID().slice(0, 8)}`;
  expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: prefix, defaultLanguage: 'en' })).status).toBe(201);
  const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, {
    kind: 'statement.made',
    title: 'Recorded through an authenticated Kafka connection',
    language: 'en',
    validTime: '2023-07-12',
    factuality: 'confirmed',
  });
  expect(recorded.status).toBe(201);
  // The relay publishes both accepted changes to timeline.events with the same settings.
  await expectEventually(async () => {
    const ends = await service.log.endOffsets(service.config.kafka.eventsTopic);
    expect([...ends.values()].reduce((sum, end) => sum + end, 0)).toBe(2);
  });
}

describe('Kafka with SASL/SCRAM', () => {
  let service: TestTimelineService;

  beforeAll(async () => {
    if (!saslBrokers || !username || !password) throw new Error('the global setup did not start a SCRAM listener');
    service = await TestTimelineService.start({
      brokers: saslBrokers,
      env: { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password },
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('the api, the projector and the relay work through the SCRAM listener', async () => {
    expect(service.config.kafka.security.sasl).toMatchObject({ mechanism: 'scram-sha-512', username });
    await recordOneEvent(service, 'sasl');
  });

  test('a wrong password is refused with an authentication error', async () => {
    const intruder = new KafkaCommandLog({
      brokers: [saslBrokers!],
      clientId: `intruder-${randomUUID().slice(0, 8)}`,
      security: { sasl: { mechanism: 'scram-sha-256', username: username!, password: `${password}-wrong` } },
    });
    try {
      await expect(intruder.endOffsets(service.config.kafka.commandsTopic)).rejects.toThrow(/SASL|[Aa]uthentication/);
    } finally {
      await intruder.close();
    }
  });
});

describe('Kafka with SASL/SCRAM over TLS', () => {
  let service: TestTimelineService;

  beforeAll(async () => {
    if (!saslSslBrokers || !caFile || !username || !password) throw new Error('the global setup did not start a SASL_SSL listener');
    service = await TestTimelineService.start({
      brokers: saslSslBrokers,
      env: {
        KAFKA_SASL_MECHANISM: 'scram-sha-256',
        KAFKA_SASL_USERNAME: username,
        KAFKA_SASL_PASSWORD: password,
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: caFile,
      },
    });
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('the api, the projector and the relay work through TLS, trusting the broker by KAFKA_SSL_CA_FILE', async () => {
    expect(service.config.kafka.security.ssl).toEqual({ ca: [expect.stringContaining('BEGIN CERTIFICATE')] });
    await recordOneEvent(service, 'tls');
  });

  test('a broker certificate no trusted CA signed is refused', async () => {
    const unsuspecting = new KafkaCommandLog({
      brokers: [saslSslBrokers!],
      clientId: `no-ca-${randomUUID().slice(0, 8)}`,
      security: { sasl: { mechanism: 'scram-sha-256', username: username!, password: password! }, ssl: true },
    });
    try {
      await expect(unsuspecting.endOffsets(service.config.kafka.commandsTopic)).rejects.toThrow(/certificate/i);
    } finally {
      await unsuspecting.close();
    }
  });
});
