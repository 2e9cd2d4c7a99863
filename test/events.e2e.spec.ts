import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { COMMAND_HEADERS } from '@timeline/command-log';
import { DecisionNotifications, OutboxRepository, OutboxSignal } from '@timeline/database';
import { CHANGE_DATA_SCHEMAS, CHANGE_EVENT_TYPE_LIST, changeEventId, type ChangeEventType } from '@timeline/change-events';
import { OutboxRelay } from '../apps/projector/src/relay/outbox-relay';
import { expectEventually } from './support/eventually';
import { EventSubscriber, type ReceivedChange } from './support/event-subscriber';
import { TestTimelineService } from './support/timeline-service';

const event = (n: number) => ({
  kind: 'statement.reported',
  title: `Dichiarazione ${n}`,
  language: 'it',
  validTime: `2023-07-${String((n % 28) + 1).padStart(2, '0')}`,
  factuality: 'reported',
});

describe('timeline.events: every accepted change on Kafka as a CloudEvent', () => {
  let service: TestTimelineService;
  let subscriber: EventSubscriber;
  /** Holds the relay lease while the projector starts, so that the projector's own relay waits behind it. */
  let firstRelay: OutboxRelay;

  beforeAll(async () => {
    service = await TestTimelineService.start({ projector: 'none', env: { RELAY_POLL_INTERVAL_MS: '100' } });
    const signal = new OutboxSignal(new DecisionNotifications(service.config.database.url));
    firstRelay = new OutboxRelay(service.config, service.log, new OutboxRepository(service.pool), signal);
    await firstRelay.open();
    expect(await firstRelay.lead()).toBe(true);
    await service.startProjectorInProcess();
    subscriber = await EventSubscriber.start(service.config.kafka.brokers, service.config.kafka.eventsTopic);
  });
  afterAll(async () => {
    await subscriber?.stop();
    await firstRelay?.stop();
    await service?.stop();
  });

  async function outbox(): Promise<{ id: string; timelineId: string; sent: boolean }[]> {
    const { rows } = await service.pool.query('select command_id, change_index, timeline_id, sent_at from outbox order by position');
    return rows.map((row) => ({ id: changeEventId(row.command_id, row.change_index), timelineId: row.timeline_id, sent: row.sent_at !== null }));
  }

  /** Waits until every outbox row is marked sent and the subscriber has each of them at least once. */
  async function allDelivered(): Promise<ReceivedChange[]> {
    return expectEventually(
      async () => {
        const rows = await outbox();
        expect(rows.filter((row) => !row.sent)).toEqual([]);
        const received = new Set(subscriber.received.map(({ event }) => event.id));
        expect(rows.filter((row) => !received.has(row.id))).toEqual([]);
        return subscriber.distinct();
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  }

  test('the relay stopped between publishing and marking sent: the next relay publishes the rows again, nothing is lost', async () => {
    const timelineId = `relay-${randomUUID().slice(0, 8)}`;
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Relay', defaultLanguage: 'it' })).status).toBe(201);
    expect((await service.http.post(`/v1/timelines/${timelineId}/events`, event(1))).status).toBe(201);

    // The first relay publishes and then stops without marking: a crash between the two steps.
    const rows = await expectEventually(async () => {
      const batch = await firstRelay.nextBatch();
      expect(batch).toHaveLength(2);
      return batch;
    });
    await firstRelay.publish(rows);
    await expectEventually(() => expect(subscriber.received).toHaveLength(2));
    expect((await outbox()).every((row) => !row.sent)).toBe(true);
    await firstRelay.stop();

    // The projector's relay takes the lease over and publishes the same changes again: duplicates, no loss.
    await allDelivered();
    await expectEventually(() => expect(subscriber.received).toHaveLength(4));
    const ids = subscriber.received.map(({ event }) => event.id);
    expect(ids.slice(2)).toEqual(ids.slice(0, 2));
    expect(subscriber.distinct().map(({ event }) => event.type)).toEqual(['timeline.timeline.created.v1', 'timeline.event.recorded.v1']);
  });

  test('a subscriber with the CloudEvents SDK decodes every change type; ids are unique; each timeline keeps its decision order', async () => {
    const traceparent = `00-${randomUUID().replace(/-/g, '')}-${randomUUID().replace(/-/g, '').slice(0, 16)}-01`;
    const timelineIds = [1, 2, 3].map((n) => `events-${n}-${randomUUID().slice(0, 8)}`);
    // Three timelines written at once, so that their changes interleave across partitions and batches.
    await Promise.all(
      timelineIds.map(async (timelineId, t) => {
        expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: `Timeline ${t}`, defaultLanguage: 'it' }, { traceparent })).status).toBe(201);
        const eventIds: string[] = [];
        for (let n = 0; n < 4; n += 1) {
          const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, event(n));
          expect(recorded.status).toBe(201);
          eventIds.push(recorded.body.event.eventId);
        }
        const revised = await service.http.post(`/v1/events/${eventIds[0]}/revisions`, {
          changes: { factuality: 'confirmed', title: 'Confermato' },
          reason: 'Second source',
        });
        expect(revised.status).toBe(200);
        expect((await service.http.post(`/v1/events/${eventIds[1]}/retraction`, { reason: 'Recorded twice' })).status).toBe(200);
      }),
    );

    const delivered = await allDelivered();
    expect(new Set(subscriber.received.map(({ event }) => event.id)).size).toBe((await outbox()).length);

    const ours = delivered.filter(({ key }) => timelineIds.includes(key));
    expect(ours).toHaveLength(3 * 7);
    for (const { event, headers, key } of ours) {
      expect(event.validate()).toBe(true);
      expect(event.specversion).toBe('1.0');
      expect(headers['content-type']).toBe('application/json');
      expect(event.datacontenttype).toBe('application/json');
      expect(event.source).toBe(`${service.config.publicBaseUrl}/v1/timelines/${key}`);
      expect(CHANGE_EVENT_TYPE_LIST).toContain(event.type);
      expect(event.dataschema).toBe(`${service.config.publicBaseUrl}/schemas/${event.type}.json`);
      expect(event.time).toBe(event.data!.knownAt);
      expect(event.data!.timelineId).toBe(key);
      // The value is the change's full new state: it passes the published schema of its type.
      expect(CHANGE_DATA_SCHEMAS[event.type as ChangeEventType].safeParse(event.data).error).toBeUndefined();
      expect(event.subject).toBe(event.type === 'timeline.timeline.created.v1' ? key : event.data!.eventId);
    }
    // Each change type is there, with the fields a subscriber needs without history.
    const byType = (type: string) => ours.filter(({ event }) => event.type === type).map(({ event }) => event);
    expect(byType('timeline.timeline.created.v1')).toHaveLength(3);
    expect(
      byType('timeline.timeline.created.v1')
        .map((e) => ({ ...e.data }).timeline.title)
        .sort(),
    ).toEqual(['Timeline 0', 'Timeline 1', 'Timeline 2']);
    expect(byType('timeline.event.recorded.v1')).toHaveLength(12);
    const [revised] = byType('timeline.event.revised.v1');
    expect(revised.data).toMatchObject({
      revision: 2,
      reason: 'Second source',
      changed: { factuality: 'confirmed', title: 'Confermato' },
      previous: { factuality: 'reported' },
      event: { factuality: 'confirmed', title: 'Confermato', revision: 2 },
    });
    const [retracted] = byType('timeline.event.retracted.v1');
    expect(retracted.data).toMatchObject({ revision: 2, reason: 'Recorded twice', event: { retracted: true, retractionReason: 'Recorded twice' } });
    // Trace context of the request travels with its change.
    expect(ours.filter(({ headers }) => headers.traceparent === traceparent)).toHaveLength(3);

    for (const timelineId of timelineIds) {
      const versions = ours.filter(({ key }) => key === timelineId).map(({ event }) => event.data!.version);
      expect(versions).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(new Set(ours.filter(({ key }) => key === timelineId).map(({ partition }) => partition)).size).toBe(1);
    }

    // ce_dataschema names a schema the api serves.
    const schema = await service.http.get(`/schemas/${revised.type}.json`);
    expect(schema.status).toBe(200);
    expect(schema.body.$id).toBe(revised.dataschema);
  });

  test('a version 0 record (no schema-version header, `occurredAt`) produced to timeline.commands is upcast and decided like a current one', async () => {
    const timelineId = `upcast-${randomUUID().slice(0, 8)}`;
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Upcast', defaultLanguage: 'it' })).status).toBe(201);
    const commandId = randomUUID();
    const eventId = randomUUID();
    const appender = await service.log.appender(service.config.kafka.commandsTopic, { lingerMs: 0, maxBatch: 10 });
    await appender.append({
      key: timelineId,
      value: JSON.stringify({
        type: 'RecordEvent',
        commandId,
        timelineId,
        eventId,
        event: { kind: 'programme.adopted', title: 'Programma di partenariato', language: 'it', occurredAt: '2023-07-12', factuality: 'confirmed' },
      }),
      headers: { [COMMAND_HEADERS.commandId]: commandId, [COMMAND_HEADERS.commandType]: 'RecordEvent' },
    });
    await appender.close();

    const decision = await expectEventually(async () => {
      const { rows } = await service.pool.query('select outcome, reason, detail, version from decisions where command_id = $1', [commandId]);
      expect(rows).toHaveLength(1);
      return rows[0];
    });
    expect(decision).toMatchObject({ outcome: 'accepted', version: 2 });
    const stored = await service.http.get(`/v1/events/${eventId}`);
    expect(stored.body).toMatchObject({ eventId, validTime: '2023-07-12', revision: 1 });
    await expectEventually(() =>
      expect(subscriber.received.find(({ event }) => event.subject === eventId)?.event.data).toMatchObject({ event: { validTime: '2023-07-12' } }),
    );
  });
});
