import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import * as fc from 'fast-check';
import { expectEventually } from './support/eventually';
import type { HttpResult } from './support/http-client';
import { rawRequest, type RawResponse } from './support/raw-http';
import { TestTimelineService } from './support/timeline-service';
import { expectWritesOnEveryPartition } from './support/write-probes';

/**
 * Property-based tests against the real service (api, Kafka, projector,
 * PostgreSQL): whatever a client sends, the answer is a success or a 4xx
 * problem, never a 5xx, and a 202 is always decided later. After each
 * property, a normal write on every partition is answered 201.
 *
 * Seeded and reproducible: PROPERTY_SEED and PROPERTY_RUNS (per property)
 * change the run; `npm run test:properties` runs many more.
 */
const SEED = Number(process.env.PROPERTY_SEED ?? 20_261_201);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 30);
const settings = { seed: SEED, numRuns: RUNS, endOnFailure: true };

/** Strings over the whole UTF-16 range, with the values that broke things before, more often than chance would give them. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'binary-ascii', maxLength: 40 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff',
    'x\ud83d',
    '\ud83d\ude00',
    '0000',
    '0000-01-01',
    '9999-12-31',
    '10000',
    '-0001',
    '2023-02-30',
    '0000-01-01T00:00:00Z',
    '1e309',
    '__proto__',
    'constructor',
    "'; drop table events; --",
    '%00',
    '\u202e',
    'x'.repeat(3_000),
  ),
);
const hostileKey = fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'title', 'validTime', 'eventId'));
const hostileNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1e308, -0, Number.MAX_SAFE_INTEGER + 2));

/** Any JSON value, a few levels deep, made of the values above. */
const anyJson: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Partial dates, right and wrong: years 0 to 10000, months 0 to 13, days 0 to 32, ranges of them. */
const partialDate = fc
  .tuple(fc.integer({ min: 0, max: 10_000 }), fc.option(fc.integer({ min: 0, max: 13 })), fc.option(fc.integer({ min: 0, max: 32 })))
  .map(([year, month, day]) =>
    [
      String(year).padStart(4, '0'),
      month === null ? null : String(month).padStart(2, '0'),
      month === null || day === null ? null : String(day).padStart(2, '0'),
    ]
      .filter(Boolean)
      .join('-'),
  );
const validTime = fc.oneof(
  partialDate,
  fc.tuple(partialDate, partialDate).map(([a, b]) => `${a}/${b}`),
  hostileString,
);

/** A value that is usually right, so that a body is often valid but for one or two fields, and sometimes valid. */
const mostly = <T, W = unknown>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<W> = anyJson as fc.Arbitrary<W>): fc.Arbitrary<T | W> =>
  fc.oneof({ arbitrary: right, weight: 15 }, { arbitrary: wrong, weight: 1 });
const uuid = fc.uuid({ version: 4 });

const eventBody = fc.record(
  {
    eventId: mostly(uuid),
    kind: mostly(fc.constantFrom('summit.attended', 'programme.adopted', 'proposal.shelved')),
    title: mostly(
      fc.string({ minLength: 1, maxLength: 30 }).map((text) => `Vertice ${text}`),
      hostileString,
    ),
    summary: mostly(fc.string({ maxLength: 30 }), hostileString),
    language: mostly(fc.constantFrom('it', 'en', 'ja')),
    validTime: mostly(fc.constantFrom('2022', '2023-07', '2023-07-12', '2022-06-28/2022-06-30'), validTime),
    actors: mostly(
      fc.array(
        fc.record({
          id: mostly(fc.constantFrom('jp', 'nato')),
          name: mostly(fc.constant('Giappone'), hostileString),
          role: mostly(fc.constant('host'), hostileString),
        }),
        { maxLength: 2 },
      ),
    ),
    places: mostly(
      fc.array(fc.record({ name: mostly(fc.constant('Vilnius'), hostileString), country: mostly(fc.constant('LT')) }, { requiredKeys: ['name'] }), {
        maxLength: 2,
      }),
    ),
    topics: mostly(fc.array(fc.constantFrom('nato-summit', 'indo-pacific'), { maxLength: 2 })),
    sources: mostly(
      fc.array(
        fc.record(
          {
            url: mostly(
              fc.webUrl(),
              hostileString.map((text) => `https://example.org/${text}`),
            ),
            publisher: mostly(fc.constant('Example'), hostileString),
            language: mostly(fc.constant('it')),
            publishedAt: mostly(fc.constantFrom('2023-07-11', '2023-07-11T09:00:00Z'), hostileString),
          },
          { requiredKeys: ['url', 'publisher', 'language'] },
        ),
        { maxLength: 2 },
      ),
    ),
    factuality: mostly(fc.constantFrom('confirmed', 'reported', 'expected', 'disputed')),
    relations: mostly(fc.array(fc.record({ type: mostly(fc.constant('relatedTo')), eventId: mostly(uuid) }), { maxLength: 2 })),
    translations: mostly(
      fc.dictionary(
        mostly(fc.constantFrom('en', 'ja'), hostileKey),
        fc.record({ title: mostly(fc.constant('Summit'), hostileString), summary: hostileString }, { requiredKeys: ['title'] }),
        { maxKeys: 2 },
      ),
    ),
  },
  { requiredKeys: ['kind', 'title', 'language', 'validTime', 'factuality'] },
);

/** Bytes of a header value, any of 0-255: what fetch would refuse to send goes out raw. */
const headerValue = fc.oneof(
  fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes)),
  hostileString.map((text) => Buffer.from(text, 'utf8')),
  fc.constantFrom('"99999999999999999999"', 'W/"-1"', '00-' + '0'.repeat(32) + '-' + '0'.repeat(16) + '-01', '*', '', ' ').map((text) => Buffer.from(text)),
);
const WRITE_HEADERS = ['idempotency-key', 'if-match', 'x-request-id', 'traceparent', 'accept-language', 'content-type', 'last-event-id'];

/** A query string of percent-encoded bytes (any UTF-8 and not), known parameter names and others. */
const percentEncoded = (bytes: Uint8Array) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');
const queryValue = fc.oneof(
  hostileString.map((text) => percentEncoded(Buffer.from(text, 'utf8'))),
  fc.uint8Array({ maxLength: 12 }).map(percentEncoded),
  partialDate,
  fc.constantFrom('%', '%zz', '%ED%A0%80', '%C0%80', '+', '1e309', '-1', '0', '500', '501', '2023-07-11T12:00:00%2B99:99'),
);
const QUERY_NAMES = [
  'from',
  'to',
  'match',
  'validAt',
  'knownAt',
  'actor',
  'role',
  'place',
  'topic',
  'kind',
  'factuality',
  'includeRetracted',
  'q',
  'order',
  'limit',
  'cursor',
  'format',
  'lang',
  'by',
  'after',
  'timelineId',
  'type',
];
const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(...QUERY_NAMES),
        hostileString.map((text) => percentEncoded(Buffer.from(text, 'utf8'))),
      ),
      queryValue,
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([name, value]) => `${name}=${value}`).join('&'));

describe('properties: whatever a client sends, a success or a 4xx problem, never a 5xx', () => {
  let service: TestTimelineService;
  const timelineId = 'properties';
  let eventId: string;
  /** Commands answered 202: each must be decided before the property ends. */
  const pending: string[] = [];

  function expectAnswer(response: Pick<HttpResult, 'status' | 'body'> & { contentType: string }, what: unknown) {
    const report = { what, status: response.status, body: response.body };
    expect(report.status < 500 ? 'no 5xx' : report).toBe('no 5xx');
    if (response.status >= 400) {
      expect(response.contentType).toMatch(/^application\/problem\+json/);
      const problem = typeof response.body === 'string' ? JSON.parse(response.body) : response.body;
      expect(problem).toMatchObject({ type: expect.stringMatching(/^\/problems\//), status: response.status });
    }
    if (response.status === 202) pending.push((typeof response.body === 'string' ? JSON.parse(response.body) : response.body).commandId);
  }
  const answerOf = (response: HttpResult) => ({ status: response.status, body: response.body, contentType: response.headers.get('content-type') ?? '' });
  const rawAnswerOf = (response: RawResponse) => ({ status: response.status, body: response.body, contentType: response.headers['content-type'] ?? '' });

  beforeAll(async () => {
    service = await TestTimelineService.start({ env: { DECISION_TIMEOUT_MS: '2000' } });
    expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: 'Proprietà', defaultLanguage: 'it' })).status).toBe(201);
    const recorded = await service.http.post(`/v1/timelines/${timelineId}/events`, {
      kind: 'summit.attended',
      title: 'Vertice di Vilnius',
      language: 'it',
      validTime: '2023-07-11/2023-07-12',
      factuality: 'confirmed',
    });
    expect(recorded.status).toBe(201);
    eventId = recorded.body.event.eventId;
  });

  afterEach(async () => {
    // Whatever was answered 202 is decided, and GET /v1/commands says how.
    for (const commandId of pending.splice(0)) {
      await expectEventually(async () => expect((await service.http.get(`/v1/commands/${commandId}`)).body.status).not.toBe('pending'), { timeoutMs: 30_000 });
    }
    await expectWritesOnEveryPartition(service);
  });

  afterAll(async () => {
    await service?.stop();
  });

  test('event bodies: mostly right, with hostile strings, dates, numbers and keys', async () => {
    await fc.assert(
      fc.asyncProperty(eventBody, async (body) => {
        expectAnswer(answerOf(await service.http.post(`/v1/timelines/${timelineId}/events`, body)), body);
      }),
      settings,
    );
  });

  test('any JSON as the body of every write', async () => {
    const routes = [
      (body: unknown) => service.http.put(`/v1/timelines/${timelineId}`, body),
      (body: unknown) => service.http.put(`/v1/timelines/new-${Math.random().toString(36).slice(2, 8)}`, body),
      (body: unknown) => service.http.post(`/v1/timelines/${timelineId}/events`, body),
      (body: unknown) => service.http.post(`/v1/events/${eventId}/revisions`, body),
      (body: unknown) => service.http.post(`/v1/events/${eventId}/retraction`, body),
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: routes.length - 1 }), anyJson, async (route, body) => {
        expectAnswer(answerOf(await routes[route](JSON.stringify(body) ?? 'null')), { route, body });
      }),
      settings,
    );
  });

  test('revisions: hostile changes, reasons and expected revisions', async () => {
    const revision = fc.record(
      {
        changes: mostly(
          fc.record({ title: hostileString, validTime, summary: hostileString, factuality: fc.constantFrom('confirmed', 'disputed') }, { requiredKeys: [] }),
        ),
        reason: mostly(fc.constant('correction'), hostileString),
        expectedRevision: mostly(fc.integer({ min: 1, max: 5 }), hostileNumber),
      },
      { requiredKeys: ['changes', 'reason'] },
    );
    await fc.assert(
      fc.asyncProperty(revision, async (body) => {
        expectAnswer(answerOf(await service.http.post(`/v1/events/${eventId}/revisions`, body)), body);
      }),
      settings,
    );
  });

  test('deep nesting: bodies nested up to 100 000 levels', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 100_000 }), fc.boolean(), async (depth, arrays) => {
        const body = arrays ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"title":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
        expectAnswer(answerOf(await service.http.post(`/v1/timelines/${timelineId}/events`, body)), { depth, arrays });
      }),
      { ...settings, numRuns: Math.min(RUNS, 10) },
    );
  });

  test('header values: any bytes in the headers a write reads', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITE_HEADERS), headerValue, async (name, value) => {
        const response = await rawRequest(service.http.baseUrl, {
          method: 'POST',
          target: `/v1/timelines/${timelineId}/events`,
          headers: [...(name === 'content-type' ? [] : [['content-type', 'application/json'] as [string, string]]), [name, value]],
          body: JSON.stringify({ kind: 'summit.attended', title: 'Vertice', language: 'it', validTime: '2023', factuality: 'confirmed' }),
        });
        expectAnswer(rawAnswerOf(response), { name, value: value.toString('latin1') });
      }),
      settings,
    );
  });

  test('query strings: any parameters, any bytes, on every query', async () => {
    const paths = [`/v1/timelines/${timelineId}/events`, '/v1/events', `/v1/timelines/${timelineId}/histogram`, '/v1/timelines', '/ops/status'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), queryString, async (path, query) => {
        const response = await rawRequest(service.http.baseUrl, { method: 'GET', target: `${path}?${query}` });
        expectAnswer(rawAnswerOf(response), { path, query });
      }),
      settings,
    );
  });

  test('path parameters: any bytes where an id goes', async () => {
    const paths = [
      (id: string) => `/v1/timelines/${id}`,
      (id: string) => `/v1/timelines/${id}/events`,
      (id: string) => `/v1/events/${id}`,
      (id: string) => `/v1/events/${id}/revisions`,
      (id: string) => `/v1/commands/${id}`,
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: paths.length - 1 }), fc.oneof(queryValue, uuid), async (path, id) => {
        const response = await rawRequest(service.http.baseUrl, { method: 'GET', target: paths[path](id) });
        expectAnswer(rawAnswerOf(response), { path: paths[path](id) });
      }),
      settings,
    );
  });
});
