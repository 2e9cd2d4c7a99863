import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { byPartition } from '@timeline/command-log';
import { redactionHash } from '@timeline/domain';
import { createAdminApp } from '../apps/projector/src/rebuild/admin.app';
import { EventSubscriber } from './support/event-subscriber';
import { expectEventually } from './support/eventually';
import { SseReader } from './support/sse-reader';
import { TestTimelineService } from './support/timeline-service';
import { bearer, testToken } from './support/tokens';

const ACTOR = { id: 'fumio-kishida', name: 'Fumio Kishida', role: 'signatory' };
const SOURCE = { url: 'https://example.org/news/kishida-vilnius?ref=a&b=c', publisher: 'Example News', language: 'en' };
const REMOVED = [ACTOR.id, ACTOR.name, SOURCE.url];
/** Each removed value as it would appear raw and inside a JSON string. */
const NEEDLES = [...new Set(REMOVED.flatMap((value) => [value, JSON.stringify(value).slice(1, -1)]))];
const KEPT_ACTOR = { id: 'jp', name: 'Giappone', role: 'party' };
const KEPT_SOURCE = { url: 'https://www.mofa.go.jp/press/release', publisher: 'MOFA', language: 'ja' };

/** The removed values found in a text, none when it is clean. */
const traces = (text: string) => NEEDLES.filter((needle) => text.includes(needle));
const textOf = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

/** Two timeline ids whose commands go to different partitions of a topic of `partitions`. */
function timelinesOnTwoPartitions(partitions: number): [string, string] {
  const first = 'redaction-one';
  const partitionOf = (key: string) => [...byPartition([{ key, value: '', headers: {} }], partitions).keys()][0];
  for (let n = 0; ; n++) {
    const candidate = `redaction-two-${n}`;
    if (partitionOf(candidate) !== partitionOf(first)) return [first, candidate];
  }
}

const eventBody = (title: string, validTime: string) => ({
  eventId: randomUUID(),
  kind: 'summit.attended',
  title,
  summary: 'Vertice NATO a Vilnius',
  language: 'it',
  validTime,
  actors: [KEPT_ACTOR, ACTOR],
  sources: [SOURCE, KEPT_SOURCE],
  factuality: 'reported',
});

describe('redacting an actor id and a source URL', () => {
  let service: TestTimelineService;
  let subscriber: EventSubscriber;
  let timelineA: string;
  let timelineB: string;
  const originalCommands: string[] = [];
  const events: string[] = [];
  let knownBeforeRedaction = '';
  let firstBody: ReturnType<typeof eventBody>;

  /** The projector's admin listener (built beside the in-process projector when a test needs it). */
  let adminApp: NestFastifyApplication | undefined;
  const admin = (method: 'GET' | 'POST', payload?: unknown) =>
    adminApp!
      .getHttpAdapter()
      .getInstance()
      .inject({ method, url: '/admin/rebuild', payload: payload as any, headers: bearer(testToken({ scope: 'ops' })) });

  /** Every row of every table of the service's schemas (live and retired), as text, that holds a removed value. */
  async function tracesInDatabase(): Promise<string[]> {
    const { rows: tables } = await service.pool.query<{ schema: string; table: string }>(
      `select table_schema as schema, table_name as table from information_schema.tables
       where table_schema like $1 and table_type = 'BASE TABLE' order by 1, 2`,
      [`${service.config.database.schema}%`],
    );
    const found: string[] = [];
    for (const { schema, table } of tables) {
      const { rows } = await service.pool.query<{ row: string }>(
        `select t::text as row from "${schema}"."${table}" t where ${NEEDLES.map((_, index) => `strpos(t::text, $${index + 1}) > 0`).join(' or ')}`,
        NEEDLES,
      );
      found.push(...rows.map((row) => `${schema}.${table}: ${row.row.slice(0, 200)}`));
    }
    return found;
  }

  beforeAll(async () => {
    service = await TestTimelineService.start();
    subscriber = await EventSubscriber.start(service.config.kafka.brokers, service.config.kafka.eventsTopic);
    [timelineA, timelineB] = timelinesOnTwoPartitions(service.config.kafka.partitions);
    for (const timelineId of [timelineA, timelineB]) {
      expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: `Timeline ${timelineId}`, defaultLanguage: 'it' })).status).toBe(201);
    }
    // Timeline A: an event recorded with the actor and the source, then revised twice (one revision changes the actors).
    const first = (firstBody = eventBody('Giappone al vertice di Vilnius', '2023-07-11'));
    const recorded = await service.http.post(`/v1/timelines/${timelineA}/events`, first, { 'idempotency-key': 'record-first' });
    expect(recorded.status).toBe(201);
    originalCommands.push(recorded.body.commandId);
    events.push(first.eventId);
    const revised = await service.http.post(`/v1/events/${first.eventId}/revisions`, { changes: { factuality: 'confirmed' }, reason: 'Confermato' });
    expect(revised.status).toBe(200);
    originalCommands.push(revised.body.commandId);
    const reroled = await service.http.post(`/v1/events/${first.eventId}/revisions`, {
      changes: { actors: [KEPT_ACTOR, { ...ACTOR, role: 'host' }] },
      reason: 'Ruolo corretto',
    });
    expect(reroled.status).toBe(200);
    originalCommands.push(reroled.body.commandId);
    // Timeline B, on another partition.
    const second = eventBody('Partenariato adottato a Vilnius', '2023-07-12');
    const other = await service.http.post(`/v1/timelines/${timelineB}/events`, second);
    expect(other.status).toBe(201);
    originalCommands.push(other.body.commandId);
    events.push(second.eventId);
    knownBeforeRedaction = (await service.http.get(`/v1/events/${second.eventId}`)).body.revisedAt;
  }, 120_000);

  afterAll(async () => {
    await adminApp?.close();
    await subscriber?.stop();
    await service?.stop();
  });

  test('before the redaction the values are there (the scans below can find them)', async () => {
    expect((await tracesInDatabase()).length).toBeGreaterThan(0);
    const byActor = await service.http.get(`/v1/events?actor=${ACTOR.id}`);
    expect(byActor.body.events.map((event: { eventId: string }) => event.eventId).sort()).toEqual([...events].sort());
  });

  test('after it, no query, export, status, stream, change or stored row holds them; new events are stored without them', async () => {
    const versionBefore = (await service.http.get(`/v1/timelines/${timelineA}`)).body.version;
    const pagePath = `/v1/timelines/${timelineA}/events`;
    const pageEtagBefore = (await service.http.get(pagePath)).headers.get('etag')!;
    expect((await service.http.get(pagePath, { 'if-none-match': pageEtagBefore })).status).toBe(304);
    const stream = await SseReader.open(`${service.http.baseUrl}/v1/stream?after=0`);

    // Only an operator redacts: a writer's token is refused and changes nothing.
    const byWriter = await service.http.withToken(testToken({ scope: 'timelines:read timelines:write' })).post('/v1/redactions', { actorId: ACTOR.id });
    expect({ status: byWriter.status, type: byWriter.body.type }).toEqual({ status: 403, type: '/problems/forbidden' });
    expect((await service.http.withToken(null).post('/v1/redactions', { actorId: ACTOR.id })).status).toBe(401);
    expect((await service.http.get(`/v1/events?actor=${ACTOR.id}`)).body.events).toHaveLength(2);

    const actor = await service.http
      .withToken(testToken({ scope: 'ops' }))
      .post('/v1/redactions', { actorId: ACTOR.id }, { 'idempotency-key': 'court-order-1' });
    expect(actor.status).toBe(201);
    // A redaction rewrites revisions without a new version: the page's ETag changes all the same, so no copy held is confirmed.
    const pageAfter = await service.http.get(pagePath, { 'if-none-match': pageEtagBefore });
    expect(pageAfter.status).toBe(200);
    expect(pageAfter.headers.get('etag')).not.toBe(pageEtagBefore);
    expect(JSON.stringify(pageAfter.body)).not.toContain(ACTOR.id);
    expect(actor.body).toMatchObject({
      status: 'applied',
      kind: 'actor',
      valueHash: redactionHash(ACTOR.id),
      eventsRewritten: 2,
      partitionsApplied: actor.body.partitions,
    });
    expect(actor.headers.get('location')).toBe(`/v1/redactions/${actor.body.redactionId}`);
    const source = await service.http.post('/v1/redactions', { sourceUrl: SOURCE.url });
    expect(source.status).toBe(201);
    expect(source.body).toMatchObject({ status: 'applied', kind: 'source', eventsRewritten: 2 });
    expect(traces(textOf(actor.body) + textOf(source.body))).toEqual([]);

    // The same key again is the same redaction; with another body it is refused.
    const retried = await service.http.post('/v1/redactions', { actorId: ACTOR.id }, { 'idempotency-key': 'court-order-1' });
    expect(retried.body).toMatchObject({ redactionId: actor.body.redactionId, status: 'applied', eventsRewritten: 2 });
    expect((await service.http.post('/v1/redactions', { actorId: 'jp' }, { 'idempotency-key': 'court-order-1' })).status).toBe(422);
    expect((await service.http.get(`/v1/redactions/${actor.body.redactionId}`)).body).toMatchObject({ status: 'applied', eventsRewritten: 2 });
    expect((await service.http.post('/v1/redactions', { actorId: ACTOR.id, sourceUrl: SOURCE.url })).status).toBe(400);
    expect((await service.http.post('/v1/redactions', { actorId: 'Not An Id' })).status).toBe(400);

    // Every read: the events, their history (as known before the redaction too), lists, searches, the export.
    const reads = [
      ...events.flatMap((eventId) => [`/v1/events/${eventId}`, `/v1/events/${eventId}/revisions`]),
      `/v1/timelines/${timelineA}/events`,
      `/v1/timelines/${timelineB}/events`,
      `/v1/timelines/${timelineA}/events?knownAt=${encodeURIComponent(knownBeforeRedaction)}`,
      `/v1/events?knownAt=${encodeURIComponent(knownBeforeRedaction)}`,
      '/v1/events?q=vilnius',
      `/v1/timelines/${timelineA}/events?format=timelinejs`,
      `/v1/timelines/${timelineB}/events?format=timelinejs`,
      ...originalCommands.map((commandId) => `/v1/commands/${commandId}`),
    ];
    for (const path of reads) {
      const response = await service.http.get(path);
      expect({ path, status: response.status, traces: traces(textOf(response.body)) }).toEqual({ path, status: 200, traces: [] });
    }
    const first = (await service.http.get(`/v1/events/${events[0]}`)).body;
    expect(first).toMatchObject({ revision: 3, actors: [KEPT_ACTOR], sources: [KEPT_SOURCE] });
    const history = (await service.http.get(`/v1/events/${events[0]}/revisions`)).body.revisions;
    expect(history).toHaveLength(3);
    expect((await service.http.get(`/v1/events?actor=${ACTOR.id}`)).body.events).toEqual([]);
    expect((await service.http.get(`/v1/events?actor=${ACTOR.id}&role=host`)).body.events).toEqual([]);
    expect((await service.http.get(`/v1/events?actor=${KEPT_ACTOR.id}`)).body.events).toHaveLength(2);
    // An idempotent retry of an original command (the same request, naming the person) is answered from its
    // decision and the stored revision: without the values too, and nothing is recorded again.
    const again = await service.http.post(`/v1/timelines/${timelineA}/events`, firstBody, { 'idempotency-key': 'record-first' });
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ commandId: originalCommands[0], revision: 1, event: { actors: [KEPT_ACTOR] } });
    expect(traces(textOf(again.body))).toEqual([]);
    // The redaction counts as a change of each timeline it touched: its version moves on, revisions do not.
    expect((await service.http.get(`/v1/timelines/${timelineA}`)).body.version).toBe(versionBefore + 2);

    // Subscribers: RedactionApplied on timeline.events and on the stream, one per timeline and redaction.
    const applied = await expectEventually(
      () => {
        const found = subscriber.received.filter((change) => change.event.type === 'timeline.redaction.applied.v1');
        expect(found.map((change) => change.key).sort()).toEqual([timelineA, timelineA, timelineB, timelineB].sort());
        return found;
      },
      { timeoutMs: 30_000 },
    );
    expect(applied.find((change) => change.key === timelineA && change.event.data!.kind === 'actor')!.event.data).toMatchObject({
      redactionId: actor.body.redactionId,
      valueHash: redactionHash(ACTOR.id),
      eventIds: [events[0]],
    });
    await expectEventually(() => expect(stream.changes.filter((change) => change.event.type === 'timeline.redaction.applied.v1')).toHaveLength(4));
    await stream.close();
    // The stream's catch-up from the beginning, after the redaction, reads the rewritten outbox.
    const catchUp = await SseReader.open(`${service.http.baseUrl}/v1/stream`, { 'last-event-id': '0' });
    await expectEventually(() => expect(catchUp.changes.filter((change) => change.event.type === 'timeline.redaction.applied.v1')).toHaveLength(4));
    await catchUp.close();
    expect(traces(textOf(catchUp.messages))).toEqual([]);
    // (Records published before the redaction keep the values: Kafka cannot rewrite them; see docs/redaction.md.)
    expect(traces(textOf(applied.map((change) => change.event.data)))).toEqual([]);

    // A new event that names the person and the source is stored without them.
    const later = eventBody('Nuovo incontro a Tokyo', '2024-01-10');
    const recorded = await service.http.post(`/v1/timelines/${timelineB}/events`, later);
    expect(recorded.status).toBe(201);
    expect(recorded.body.event).toMatchObject({ actors: [KEPT_ACTOR], sources: [KEPT_SOURCE] });
    expect(traces(textOf(recorded.body))).toEqual([]);
    await service.waitForProjection();
    expect(await tracesInDatabase()).toEqual([]);

    // A rebuild replays the log from offset 0 (which keeps the originals) and comes out redacted, equal to the live schema.
    adminApp = await createAdminApp(service.projector, service.config);
    expect((await admin('POST', { dropRetired: false })).statusCode).toBe(202);
    const finished = await expectEventually(
      async () => {
        const status = (await admin('GET')).json();
        expect(['switched', 'failed']).toContain(status.state);
        return status;
      },
      { timeoutMs: 90_000, intervalMs: 200 },
    );
    expect(finished).toMatchObject({ state: 'switched', error: null, checksum: { equal: true } });
    expect(finished.checksum.live.redactions.rows).toBe(2 * actor.body.partitions);
    expect(await tracesInDatabase()).toEqual([]);
    expect((await service.http.get(`/v1/events?actor=${ACTOR.id}`)).body.events).toEqual([]);
    expect((await service.http.get(`/v1/events/${later.eventId}`)).body).toMatchObject({ actors: [KEPT_ACTOR] });
  }, 240_000);

  test('a redaction not applied by every partition within the wait is answered 202 with a link to follow it', async () => {
    await service.stopProjectorInProcess();
    const late = await service.http.post('/v1/redactions', { sourceUrl: KEPT_SOURCE.url });
    expect(late.status).toBe(202);
    expect(late.body).toMatchObject({ status: 'pending', kind: 'source', partitionsApplied: 0, partitions: service.config.kafka.partitions });
    expect(late.headers.get('location')).toBe(`/v1/redactions/${late.body.redactionId}`);
    await service.startProjectorInProcess();
    const applied = await expectEventually(
      async () => {
        const status = await service.http.get(late.headers.get('location')!);
        expect(status.body.status).toBe('applied');
        return status.body;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(applied).toMatchObject({ kind: 'source', partitionsApplied: service.config.kafka.partitions, eventsRewritten: 3 });
    expect((await service.http.get(`/v1/events/${events[0]}`)).body.sources).toEqual([]);
  }, 120_000);
});
