/**
 * The Kafka clients' security settings against the run's broker, which the global setup gives a
 * SASL_PLAINTEXT listener taking SCRAM beside its plain one: the whole write path through SCRAM,
 * and a wrong password refused with an answer rather than a hang.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { KafkaCommandLog } from '@timeline/command-log';
import { expectEventually } from './support/eventually';
import { TestTimelineService } from './support/timeline-service';

const saslBrokers = process.env.TEST_KAFKA_SASL_BROKERS;
const username = process.env.TEST_KAFKA_SCRAM_USER;
const password = process.env.TEST_KAFKA_SCRAM_PASSWORD;

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
    const timelineId = `sasl-${randomUUID().slice(0, 8)}`;
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'SCRAM', defaultLanguage: 'en' })).status).toBe(201);
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, {
      kind: 'statement.made',
      title: 'Recorded through an authenticated Kafka connection',
      language: 'en',
      validTime: '2023-07-12',
      factuality: 'confirmed',
    });
    expect(recorded.status).toBe(201);
    // The relay publishes both accepted changes to timeline.events with the same credentials.
    await expectEventually(async () => {
      const ends = await service.log.endOffsets(service.config.kafka.eventsTopic);
      expect([...ends.values()].reduce((sum, end) => sum + end, 0)).toBe(2);
    });
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
