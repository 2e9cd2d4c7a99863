import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expectEventually } from './support/eventually';
import type { HttpResult } from './support/http-client';
import { OpenApiContract } from './support/openapi-contract';
import { TestTimelineService } from './support/timeline-service';
import { bearer, testToken } from './support/tokens';

const REPO_ROOT = path.resolve(__dirname, '..');
const TIMELINE = 'contract-check';
const EVENT = {
  kind: 'programme.adopted',
  title: 'NATO and Japan adopt an Individually Tailored Partnership Programme',
  summary: 'Adopted at the Vilnius summit.',
  language: 'en',
  validTime: '2023-07-12',
  factuality: 'expected',
  actors: [{ id: 'jp', name: 'Japan', role: 'signatory' }],
  places: [{ name: 'Vilnius', country: 'LT' }],
  topics: ['partnership'],
  translations: { it: { title: 'NATO e Giappone adottano un programma di partenariato' } },
};

/**
 * The served OpenAPI document against the real service: every answer below,
 * success or problem, is checked against the document's entry for its path,
 * method, status and media type; every route the api registers must be
 * documented; Spectral must find nothing in the document.
 */
describe('the OpenAPI document matches what the api does', () => {
  let service: TestTimelineService;
  let contract: OpenApiContract;

  /** Sends a request and checks its answer against the document. */
  const call = async (method: 'GET' | 'PUT' | 'POST', url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> => {
    const result = await service.http.request<any>(method, url, body, headers);
    expect({ request: `${method} ${url}`, errors: contract.check(method, url, result) }).toEqual({ request: `${method} ${url}`, errors: [] });
    return result;
  };
  const expectProblem = async (method: 'GET' | 'PUT' | 'POST', url: string, status: number, type: string, body?: unknown, headers?: Record<string, string>) => {
    const result = await call(method, url, body, headers);
    expect({ status: result.status, type: result.body.type }).toEqual({ status, type: `/problems/${type}` });
    return result;
  };

  beforeAll(async () => {
    // No projector at first, so that a write waits out the decision bound and is answered 202.
    service = await TestTimelineService.start({ projector: 'none', env: { DECISION_TIMEOUT_MS: '3000' } });
    const served = await service.http.get('/openapi.json');
    expect(served.status).toBe(200);
    contract = new OpenApiContract(served.body);
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('the document is OpenAPI 3.1 and validates against its own entry', async () => {
    expect(contract.document.openapi).toMatch(/^3\.1\./);
    await call('GET', '/openapi.json');
  });

  test('a write not decided within the bound is 202 with Location, and the command can be followed to its decision', async () => {
    const answer = await call('PUT', '/v1/timelines/contract-pending', { title: 'Pending', defaultLanguage: 'en' });
    expect(answer.status).toBe(202);
    const location = answer.headers.get('location')!;
    expect((await call('GET', location)).body.status).toBe('pending');

    await service.startProjectorInProcess();
    await expectEventually(async () => expect((await call('GET', location)).body.status).toBe('accepted'), { timeoutMs: 60_000, intervalMs: 200 });
  });

  test("access: no token is 401, a token without the scope 403, each as the document says; the document names each operation's scope", async () => {
    const unauthorized = await service.http.withToken(null).post(`/v1/timelines/${TIMELINE}/events`, {});
    expect({ status: unauthorized.status, errors: contract.check('POST', `/v1/timelines/${TIMELINE}/events`, unauthorized) }).toEqual({
      status: 401,
      errors: [],
    });
    await expectProblem('POST', `/v1/timelines/${TIMELINE}/events`, 403, 'forbidden', {}, bearer(testToken({ scope: 'timelines:read' })));
    const operation = contract.document.paths['/v1/timelines/{timelineId}/events'].post;
    expect(operation.security).toEqual([{ bearerAuth: ['timelines:write'] }]);
    expect(contract.document.paths['/health/live'].get.security).toEqual([]);
  });

  describe('timelines', () => {
    test('create, repeat, conflict', async () => {
      const created = await call('PUT', `/v1/timelines/${TIMELINE}`, { title: 'Contract', defaultLanguage: 'en' });
      expect(created.status).toBe(201);
      expect((await call('PUT', `/v1/timelines/${TIMELINE}`, { title: 'Contract', defaultLanguage: 'en' })).status).toBe(200);
      const conflict = await expectProblem('PUT', `/v1/timelines/${TIMELINE}`, 409, 'timeline-exists', { title: 'Other', defaultLanguage: 'en' });
      // A rejected command is a decision too.
      expect((await call('GET', `/v1/commands/${conflict.body.commandId}`)).body.status).toBe('rejected');
    });

    test('bad requests are 400, 413 and 415 problems', async () => {
      await expectProblem('PUT', '/v1/timelines/Not_A_Slug', 400, 'invalid-request', { title: 'x', defaultLanguage: 'en' });
      await expectProblem('PUT', `/v1/timelines/${TIMELINE}`, 400, 'invalid-request', { title: '', defaultLanguage: 'english', extra: 1 });
      await expectProblem('PUT', `/v1/timelines/${TIMELINE}`, 400, 'invalid-request', '{not json');
      await expectProblem('PUT', `/v1/timelines/${TIMELINE}`, 400, 'invalid-request', { title: 'x', defaultLanguage: 'en' }, { 'if-match': 'nope' });
      await expectProblem('PUT', `/v1/timelines/${TIMELINE}`, 415, 'unsupported-media-type', '<timeline/>', { 'content-type': 'application/xml' });
      const huge = { title: 'x', description: 'a'.repeat(service.config.http.bodyLimitBytes + 1), defaultLanguage: 'en' };
      await expectProblem('PUT', `/v1/timelines/${TIMELINE}`, 413, 'payload-too-large', huge);
    });

    test('read one, list, page', async () => {
      const timeline = await call('GET', `/v1/timelines/${TIMELINE}`);
      expect(timeline.headers.get('etag')).toBe(`"${timeline.body.version}"`);
      await expectProblem('GET', '/v1/timelines/no-such-timeline', 404, 'timeline-not-found');
      const first = await call('GET', '/v1/timelines?limit=1');
      expect(first.body.nextCursor).not.toBeNull();
      await call('GET', `/v1/timelines?limit=1&cursor=${first.body.nextCursor}`);
      await expectProblem('GET', '/v1/timelines?limit=0', 400, 'invalid-request');
      await expectProblem('GET', '/v1/timelines?cursor=!!!', 400, 'invalid-request');
    });
  });

  describe('events', () => {
    const eventId = randomUUID();
    let version: number;

    test('record, and the problems of recording', async () => {
      const recorded = await call(
        'POST',
        `/v1/timelines/${TIMELINE}/events`,
        { ...EVENT, eventId },
        {
          'idempotency-key': `record-${eventId}`,
          traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        },
      );
      expect(recorded.status).toBe(201);
      version = recorded.body.version;
      await expectProblem('POST', `/v1/timelines/${TIMELINE}/events`, 409, 'event-exists', { ...EVENT, eventId, title: 'Another' });
      await expectProblem('POST', `/v1/timelines/${TIMELINE}/events`, 409, 'version-conflict', EVENT, { 'if-match': `"${version + 10}"` });
      await expectProblem(
        'POST',
        `/v1/timelines/${TIMELINE}/events`,
        422,
        'idempotency-key-reused',
        { ...EVENT, title: 'Changed' },
        {
          'idempotency-key': `record-${eventId}`,
        },
      );
      await expectProblem('POST', '/v1/timelines/no-such-timeline/events', 404, 'timeline-not-found', EVENT);
      await expectProblem('POST', `/v1/timelines/${TIMELINE}/events`, 400, 'invalid-request', { ...EVENT, validTime: '2023-13' });
    });

    test('record a batch: a result per event, recorded or rejected, and the problems of a whole batch', async () => {
      const batch = await call('POST', `/v1/timelines/${TIMELINE}/events:batch`, {
        events: [
          { ...EVENT, title: 'In a batch' },
          { ...EVENT, eventId },
        ],
      });
      expect(batch.body.results.map((result: { status: number }) => result.status)).toEqual([201, 409]);
      await expectProblem('POST', `/v1/timelines/${TIMELINE}/events:batch`, 400, 'invalid-request', { events: [] });
      await expectProblem('POST', `/v1/timelines/${TIMELINE}/events:batch`, 413, 'payload-too-large', { events: Array.from({ length: 101 }, () => EVENT) });
    });

    test('revise, retract, and their problems', async () => {
      await expectProblem('POST', `/v1/events/${eventId}/revisions`, 400, 'invalid-request', { changes: {}, reason: 'nothing' });
      const revised = await call('POST', `/v1/events/${eventId}/revisions`, { changes: { factuality: 'confirmed' }, reason: 'Confirmed', expectedRevision: 1 });
      expect(revised.status).toBe(200);
      await expectProblem('POST', `/v1/events/${eventId}/revisions`, 409, 'revision-conflict', {
        changes: { title: 'Late' },
        reason: 'Stale',
        expectedRevision: 1,
      });
      await expectProblem('POST', `/v1/events/${randomUUID()}/revisions`, 404, 'event-not-found', { changes: { title: 'x' }, reason: 'x' });

      const other = await call('POST', `/v1/timelines/${TIMELINE}/events`, { ...EVENT, title: 'To be retracted', validTime: '2022-06' });
      const otherId = other.body.event.eventId;
      expect((await call('POST', `/v1/events/${otherId}/retraction`, { reason: 'Weak sources' })).status).toBe(200);
      await expectProblem('POST', `/v1/events/${otherId}/retraction`, 422, 'event-retracted', { reason: 'Again' });
      await expectProblem('POST', `/v1/events/${otherId}/revisions`, 422, 'event-retracted', { changes: { title: 'x' }, reason: 'x' });
      await expectProblem('POST', `/v1/events/${randomUUID()}/retraction`, 404, 'event-not-found', { reason: 'x' });
      await expectProblem('POST', '/v1/events/not-a-uuid/retraction', 400, 'invalid-request', { reason: 'x' });
    });

    test('read an event and its revisions', async () => {
      await call('GET', `/v1/events/${eventId}`);
      const revisions = await call('GET', `/v1/events/${eventId}/revisions`);
      expect(revisions.body.revisions.map((revision: any) => revision.changeType)).toEqual(['EventRecorded', 'EventRevised']);
      await expectProblem('GET', `/v1/events/${randomUUID()}`, 404, 'event-not-found');
      await expectProblem('GET', `/v1/events/${randomUUID()}/revisions`, 404, 'event-not-found');
      await expectProblem('GET', '/v1/events/not-a-uuid', 400, 'invalid-request');
    });

    test('commands: accepted, and pending when never seen', async () => {
      const recorded = await call('POST', `/v1/timelines/${TIMELINE}/events`, { ...EVENT, title: 'Third', validTime: '2024' });
      expect((await call('GET', `/v1/commands/${recorded.body.commandId}`)).body.status).toBe('accepted');
      expect((await call('GET', `/v1/commands/${randomUUID()}`)).body.status).toBe('pending');
      await expectProblem('GET', '/v1/commands/not-a-uuid', 400, 'invalid-request');
    });

    test('redactions: applied, followed, and their problems', async () => {
      const redacted = await call('POST', '/v1/redactions', { actorId: 'contract-redacted-person' }, { 'idempotency-key': 'contract-redaction' });
      expect(redacted.status).toBe(201);
      expect((await call('GET', `/v1/redactions/${redacted.body.redactionId}`)).body.status).toBe('applied');
      expect((await call('GET', `/v1/redactions/${randomUUID()}`)).body.status).toBe('pending');
      await expectProblem('POST', '/v1/redactions', 400, 'invalid-request', { actorId: 'a', sourceUrl: 'https://example.org/' });
      await expectProblem('GET', '/v1/redactions/not-a-uuid', 400, 'invalid-request');
    });
  });

  describe('queries', () => {
    test('searches with every kind of parameter, repeatable ones repeated', async () => {
      const base = `/v1/timelines/${TIMELINE}/events`;
      await call('GET', base);
      await call(
        'GET',
        `${base}?from=2023&to=2023-07&match=within&actor=jp&actor=nato&role=signatory&place=LT&topic=partnership&kind=programme.adopted&factuality=confirmed&factuality=expected&order=desc&limit=5`,
      );
      await call('GET', `${base}?validAt=2023-07-12&knownAt=${new Date().toISOString()}&includeRetracted=true&q=partnership`);
      const localized = await call('GET', `${base}?lang=it`, undefined, { 'accept-language': 'it-IT, en;q=0.8' });
      expect(localized.body.events.some((event: any) => event.displayLanguage === 'it' && event.original)).toBe(true);
      const page = await call('GET', `${base}?limit=1`);
      await call('GET', `${base}?limit=1&cursor=${page.body.nextCursor}`);
      // The same page again with its ETag: 304, as documented.
      expect((await call('GET', `${base}?limit=1`, undefined, { 'if-none-match': page.headers.get('etag')! })).status).toBe(304);
      await call('GET', '/v1/events?q=programme&limit=2');
    });

    test('the TimelineJS export, by Accept or format, with a Link to the next page', async () => {
      const base = `/v1/timelines/${TIMELINE}/events`;
      const byAccept = await call('GET', `${base}?limit=1`, undefined, { accept: 'application/vnd.timelinejs+json' });
      expect(byAccept.headers.get('content-type')).toContain('application/vnd.timelinejs+json');
      expect(byAccept.headers.get('link')).toContain('rel="next"');
      await call('GET', `${base}?format=timelinejs`);
    });

    test('histogram', async () => {
      await call('GET', `/v1/timelines/${TIMELINE}/histogram`);
      await call('GET', `/v1/timelines/${TIMELINE}/histogram?by=month&factuality=confirmed&actor=jp`);
      await expectProblem('GET', `/v1/timelines/${TIMELINE}/histogram?by=week`, 400, 'invalid-request');
      await expectProblem('GET', '/v1/timelines/no-such-timeline/histogram', 404, 'timeline-not-found');
    });

    test.each([
      ['a `to` before `from`', 'from=2023-07&to=2023-06'],
      ['an unparsable date', 'from=2023-13-45'],
      ['an unknown `match`', 'match=touches'],
      ['a foreign cursor', 'cursor=bm90LWEtY3Vyc29y'],
      ['an unknown parameter', 'colour=blue'],
      ['a limit over the bound', 'limit=501'],
    ])('%s is a 400 problem naming the parameter', async (_case, query) => {
      const answer = await expectProblem('GET', `/v1/events?${query}`, 400, 'invalid-request');
      expect(answer.body.errors[0].field).toMatch(/^query\./);
      await expectProblem('GET', `/v1/timelines/${TIMELINE}/events?${query}`, 400, 'invalid-request');
    });
  });

  describe('health and documentation', () => {
    test('health probes and metrics', async () => {
      await call('GET', '/health/live');
      await call('GET', '/health/ready');
      await call('GET', '/metrics');
    });

    test('the documentation page and its files are served by the service itself', async () => {
      const page = await call('GET', '/docs');
      const assets = [...String(page.body).matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map(([, asset]) => asset);
      expect(assets.length).toBeGreaterThanOrEqual(2);
      for (const asset of assets) expect((await call('GET', asset)).status).toBe(200);
      expect(String(page.body)).toContain('/openapi.json');
      await expectProblem('GET', '/docs/assets/index.html', 404, 'not-found');
    });

    test('the ops page, its files and the status it polls', async () => {
      const page = await call('GET', '/ops');
      const assets = [...String(page.body).matchAll(/(?:src|href)="(\/ops\/assets\/[^"]+)"/g)].map(([, asset]) => asset);
      expect(assets.length).toBeGreaterThanOrEqual(4);
      for (const asset of assets) expect((await call('GET', asset)).status).toBe(200);
      await call('GET', '/ops/status');
      await expectProblem('GET', '/ops/assets/ops.html', 404, 'not-found');
    });

    test('the change stream opens as text/event-stream, and its bad parameters are 400 before it opens', async () => {
      const aborted = new AbortController();
      const response = await fetch(`${service.http.baseUrl}/v1/stream?after=0&type=timeline.event.recorded.v1`, { signal: aborted.signal, headers: bearer() });
      const opened = { status: response.status, headers: response.headers, body: '' };
      aborted.abort();
      expect(contract.check('GET', '/v1/stream', opened)).toEqual([]);
      await expectProblem('GET', '/v1/stream?after=x', 400, 'invalid-request');
      await expectProblem('GET', '/v1/stream?type=timeline.unknown.v1', 400, 'invalid-request');
      await expectProblem('GET', '/v1/stream', 400, 'invalid-request', undefined, { 'last-event-id': '999999999' });
    });

    test('the published event contract: AsyncAPI document and data schemas', async () => {
      await call('GET', '/asyncapi.json');
      await expectProblem('GET', '/schemas/timeline.no-such.v1.json', 404, 'not-found');
    });

    test('every documented GET whose path parameters are enumerated answers as documented, for each value', async () => {
      const enumerated = Object.entries<any>(contract.document.paths).filter(
        ([, item]) => item.get && !item.get.responses['200']?.content?.['text/event-stream'],
      );
      for (const [template, item] of enumerated) {
        const parameters: any[] = (item.get.parameters ?? []).filter((parameter: any) => parameter.in === 'path');
        if (parameters.some((parameter) => !parameter.schema?.enum)) continue;
        const urls = parameters.reduce<string[]>(
          (partial, parameter) => partial.flatMap((url) => parameter.schema.enum.map((value: string) => url.replace(`{${parameter.name}}`, value))),
          [template],
        );
        for (const url of urls) expect({ url, status: (await call('GET', url)).status }).toEqual({ url, status: 200 });
      }
    });

    test('a path the api does not serve is a 404 problem', async () => {
      const answer = await service.http.get('/v1/no-such-thing');
      expect(answer.status).toBe(404);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(contract.checkComponent('Problem', answer.body)).toEqual([]);
    });
  });

  describe('the document as a whole', () => {
    test('every route the api registered is documented, and every documented operation is served', () => {
      // `::` is Fastify's escaped `:` (`events::batch`); a single `:` starts a parameter.
      const registered = service.apiRoutes.map(({ method, url }) => `${method} ${url.replace(/::|:(\w+)/g, (escaped, name) => (name ? `{${name}}` : ':'))}`);
      expect(registered.length).toBeGreaterThan(10);
      expect([...new Set(registered)].sort()).toEqual(contract.operations().sort());
    });

    test('every documented operation was called above and answered with a success', () => {
      const succeeded = new Set([...contract.seen].filter((seen) => /\s2\d\d$/.test(seen)).map((seen) => seen.split(' ')[0]));
      const untested = contract.operationIds().filter((operationId) => !succeeded.has(operationId));
      expect(untested).toEqual([]);
    });

    test('Spectral finds no error or warning in the document as served', async () => {
      const url = `${service.http.baseUrl}/openapi.json`;
      const lint = await promisify(execFile)('bash', ['scripts/openapi/lint.sh', url, '--format', 'json', '--quiet'], { cwd: REPO_ROOT }).catch(
        (error: { stdout: string; stderr: string }) => error,
      );
      const results = JSON.parse(lint.stdout || '[]') as { code: string; message: string; path: string[]; severity: number }[];
      expect(results.map(({ code, message, path: at }) => `${code}: ${message} at ${at.join('.')}`)).toEqual([]);
      expect(lint.stderr).toBe('');
    });
  });
});
