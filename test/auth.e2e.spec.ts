import { createServer, type Server } from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TimelineConfig } from '@timeline/config';
import { createApiApp } from '../apps/api/src/api.app';
import { createAdminApp } from '../apps/projector/src/rebuild/admin.app';
import { reportedStatement } from '@timeline/dev-stack';
import { HttpClient, type HttpResult } from './support/http-client';
import { TestTimelineService } from './support/timeline-service';
import { testToken } from './support/tokens';

const OURS = 'auth-ours';
const THEIRS = 'auth-theirs';

const expectProblem = (response: HttpResult, status: number, type: string) => {
  expect({ status: response.status, type: response.body.type }).toEqual({ status, type });
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
};
const challengeOf = (response: HttpResult) => response.headers.get('www-authenticate');

/** Every boundary of the scoped service tokens (docs/access.md), against the api and the projector's admin listener. */
describe('access with scoped bearer tokens', () => {
  let service: TestTimelineService;
  const as = (token: string | null) => service.http.withToken(token);

  beforeAll(async () => {
    service = await TestTimelineService.start();
    for (const timelineId of [OURS, THEIRS]) {
      expect((await service.http.put(`/v1/timelines/${timelineId}`, { title: timelineId, defaultLanguage: 'it' })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await service?.stop();
  });

  test('every operation answers a request without a token as the OpenAPI document says: refused where it names a scope, served where it names none', async () => {
    const document = (await service.http.get('/openapi.json')).body as { paths: Record<string, Record<string, { security: unknown[] }>> };
    const sample: Record<string, string> = {
      timelineId: OURS,
      eventId: randomUUID(),
      commandId: randomUUID(),
      file: 'timeline.event.recorded.v1.json',
      asset: 'ops.js',
    };
    const mismatches: string[] = [];
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) => sample[name]);
        const response = await as(null).request(method.toUpperCase(), path, method === 'get' ? undefined : {}, {});
        const refused = response.status === 401 || response.status === 403;
        if (refused !== operation.security.length > 0)
          mismatches.push(`${method} ${template}: ${response.status}, security ${JSON.stringify(operation.security)}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  describe('a request without a valid token is 401', () => {
    test('no token: 401 unauthorized with a bare Bearer challenge', async () => {
      const response = await as(null).get(`/v1/timelines/${OURS}`);
      expectProblem(response, 401, '/problems/unauthorized');
      expect(challengeOf(response)).toBe('Bearer');
    });

    test('a token signed by another key: 401 invalid_token', async () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const response = await as(testToken({ privateKey })).get(`/v1/timelines/${OURS}`);
      expectProblem(response, 401, '/problems/unauthorized');
      expect(challengeOf(response)).toBe('Bearer error="invalid_token"');
      expect(response.body.detail).toMatch(/signature/);
    });

    test('an expired token: 401 invalid_token', async () => {
      const response = await as(testToken({ expiresInSeconds: -3600 })).get(`/v1/timelines/${OURS}`);
      expectProblem(response, 401, '/problems/unauthorized');
      expect(response.body.detail).toMatch(/expired/);
    });

    test('a token of another issuer or for another audience: 401', async () => {
      for (const token of [testToken({ issuer: 'someone-else' }), testToken({ audience: 'another-api' })]) {
        expectProblem(await as(token).get(`/v1/timelines/${OURS}`), 401, '/problems/unauthorized');
      }
    });

    test('an Authorization header that is not a bearer token: 401 invalid_token', async () => {
      const response = await as(null).get(`/v1/timelines/${OURS}`, { authorization: 'Basic dXNlcjpwYXNz' });
      expectProblem(response, 401, '/problems/unauthorized');
      expect(challengeOf(response)).toBe('Bearer error="invalid_token"');
    });
  });

  describe('scopes', () => {
    test('a read token reads, and writing with it is 403 insufficient_scope naming timelines:write', async () => {
      const reader = as(testToken({ scope: 'timelines:read' }));
      expect((await reader.get(`/v1/timelines/${OURS}/events`)).status).toBe(200);
      const response = await reader.post(`/v1/timelines/${OURS}/events`, reportedStatement(1));
      expectProblem(response, 403, '/problems/forbidden');
      expect(challengeOf(response)).toBe('Bearer error="insufficient_scope", scope="timelines:write"');
    });

    test('a write token writes, and reading with it is 403', async () => {
      const writer = as(testToken({ scope: 'timelines:write' }));
      expect((await writer.post(`/v1/timelines/${OURS}/events`, reportedStatement(2))).status).toBe(201);
      expectProblem(await writer.get(`/v1/timelines/${OURS}`), 403, '/problems/forbidden');
    });

    test('the stream needs timelines:read', async () => {
      expectProblem(await as(null).get(`/v1/stream?timelineId=${OURS}`), 401, '/problems/unauthorized');
      expectProblem(await as(testToken({ scope: 'ops' })).get(`/v1/stream?timelineId=${OURS}`), 403, '/problems/forbidden');
    });
  });

  describe('a token narrowed to one timeline', () => {
    const narrowed = () => as(testToken({ scope: 'timelines:read timelines:write', timelines: [OURS] }));

    test('reads and writes its timeline', async () => {
      const recorded = await narrowed().post(`/v1/timelines/${OURS}/events`, reportedStatement(3));
      expect(recorded.status).toBe(201);
      expect((await narrowed().get(`/v1/timelines/${OURS}/events`)).status).toBe(200);
      expect((await narrowed().get(`/v1/events/${recorded.body.event.eventId}`)).status).toBe(200);
      expect((await narrowed().post(`/v1/events/${recorded.body.event.eventId}/revisions`, { changes: { title: 'Rivista' }, reason: 'test' })).status).toBe(
        200,
      );
      expect((await narrowed().get(`/v1/commands/${recorded.body.commandId}`)).status).toBe(200);
    });

    test("is 403 on another timeline, and on that timeline's events and commands", async () => {
      const theirs = await service.http.post(`/v1/timelines/${THEIRS}/events`, reportedStatement(4));
      expect(theirs.status).toBe(201);
      expectProblem(await narrowed().post(`/v1/timelines/${THEIRS}/events`, reportedStatement(5)), 403, '/problems/forbidden');
      expectProblem(await narrowed().get(`/v1/timelines/${THEIRS}`), 403, '/problems/forbidden');
      expectProblem(await narrowed().get(`/v1/events/${theirs.body.event.eventId}`), 403, '/problems/forbidden');
      expectProblem(await narrowed().get(`/v1/commands/${theirs.body.commandId}`), 403, '/problems/forbidden');
    });

    test('is 403 on endpoints across timelines unless its parameters confine it to its timelines', async () => {
      expectProblem(await narrowed().get('/v1/timelines'), 403, '/problems/forbidden');
      expectProblem(await narrowed().get('/v1/events?q=dichiarazione'), 403, '/problems/forbidden');
      expectProblem(await narrowed().get('/v1/stream'), 403, '/problems/forbidden');
      expectProblem(await narrowed().get(`/v1/stream?timelineId=${THEIRS}`), 403, '/problems/forbidden');
      const stream = await fetch(`${service.http.baseUrl}/v1/stream?timelineId=${OURS}`, { headers: { authorization: `Bearer ${narrowed().token}` } });
      expect(stream.status).toBe(200);
      await stream.body?.cancel();
    });
  });

  describe('operations', () => {
    test('/metrics and /ops/status: 401 without a token, 403 without ops, 200 with it', async () => {
      for (const path of ['/metrics', '/ops/status']) {
        expectProblem(await as(null).get(path), 401, '/problems/unauthorized');
        expectProblem(await as(testToken({ scope: 'timelines:read timelines:write' })).get(path), 403, '/problems/forbidden');
        expect((await as(testToken({ scope: 'ops' })).get(path)).status).toBe(200);
      }
    });

    test("the projector's /metrics needs ops too; its health is open", async () => {
      await service.projector.listen(0, '127.0.0.1');
      const projector = new HttpClient(await service.projector.getUrl(), null);
      expectProblem(await projector.get('/metrics'), 401, '/problems/unauthorized');
      expect((await projector.withToken(testToken({ scope: 'ops' })).get('/metrics')).status).toBe(200);
      expect((await projector.get('/health/live')).status).toBe(200);
    });

    test('health, the contract documents and the ops page shell are open', async () => {
      for (const path of ['/health/live', '/docs', '/openapi.json', '/asyncapi.json', '/ops', '/ops/assets/ops.js']) {
        expect({ path, status: (await as(null).get(path)).status }).toEqual({ path, status: 200 });
      }
    });
  });

  describe('AUTH_PUBLIC_READ=true', () => {
    let publicApi: NestFastifyApplication;
    let anonymous: HttpClient;

    beforeAll(async () => {
      publicApi = await createApiApp(TimelineConfig.fromEnvironment({ ...service.env, AUTH_PUBLIC_READ: 'true' }));
      await publicApi.listen(0, '127.0.0.1');
      anonymous = new HttpClient(await publicApi.getUrl(), null);
    });
    afterAll(async () => {
      await publicApi?.close();
    });

    test('lets reads through without a token, but not writes, ops or metrics', async () => {
      expect((await anonymous.get(`/v1/timelines/${OURS}/events`)).status).toBe(200);
      expect((await anonymous.get('/v1/timelines')).status).toBe(200);
      expectProblem(await anonymous.post(`/v1/timelines/${OURS}/events`, reportedStatement(6)), 401, '/problems/unauthorized');
      expectProblem(await anonymous.get('/ops/status'), 401, '/problems/unauthorized');
      expectProblem(await anonymous.get('/metrics'), 401, '/problems/unauthorized');
      expect((await anonymous.withToken(testToken()).post(`/v1/timelines/${OURS}/events`, reportedStatement(7))).status).toBe(201);
    });
  });

  describe('keys from a JWKS URL (AUTH_JWKS_URL)', () => {
    let jwks: Server;
    let jwksApi: NestFastifyApplication;

    beforeAll(async () => {
      const publicJwk = { ...createPublicKey(process.env.TEST_AUTH_PUBLIC_KEY!).export({ format: 'jwk' }), kid: 'test', alg: 'EdDSA', use: 'sig' };
      jwks = createServer((_, response) => response.setHeader('content-type', 'application/json').end(JSON.stringify({ keys: [publicJwk] })));
      await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
      const { AUTH_PUBLIC_KEY: _key, ...env } = service.env;
      jwksApi = await createApiApp(
        TimelineConfig.fromEnvironment({ ...env, AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as net.AddressInfo).port}/jwks` }),
      );
      await jwksApi.listen(0, '127.0.0.1');
    });
    afterAll(async () => {
      await jwksApi?.close();
      await new Promise((resolve) => jwks?.close(resolve));
    });

    test("verifies tokens with the issuer's published keys", async () => {
      const client = new HttpClient(await jwksApi.getUrl());
      expect((await client.get(`/v1/timelines/${OURS}`)).status).toBe(200);
      expectProblem(
        await client.withToken(testToken({ privateKey: generateKeyPairSync('ed25519').privateKey })).get(`/v1/timelines/${OURS}`),
        401,
        '/problems/unauthorized',
      );
    });
  });
});

/** Whether a TCP connection to host:port is accepted. */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const externalAddresses = () =>
  Object.values(os.networkInterfaces())
    .flat()
    .filter((address): address is os.NetworkInterfaceInfo => !!address && !address.internal && address.family === 'IPv4')
    .map((address) => address.address);

describe("the projector's admin listener", () => {
  let service: TestTimelineService;
  let admin: NestFastifyApplication;
  let port: number;

  beforeAll(async () => {
    service = await TestTimelineService.start();
    const config = TimelineConfig.fromEnvironment({ ...service.env, ADMIN_PORT: '0' });
    admin = await createAdminApp(service.projector, config);
    await admin.listen(config.admin.port, config.admin.host);
    port = (admin.getHttpServer().address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await admin?.close();
    await service?.stop();
  });

  test('listens on loopback by default and cannot be reached from any other address of the machine', async () => {
    expect((admin.getHttpServer().address() as net.AddressInfo).address).toBe('127.0.0.1');
    expect(await connects('127.0.0.1', port)).toBe(true);
    const outside = externalAddresses();
    expect(outside.length).toBeGreaterThan(0);
    for (const address of outside) expect({ address, connects: await connects(address, port) }).toEqual({ address, connects: false });
  });

  test('ADMIN_HOST puts it on another address, where it is then reachable', async () => {
    const [address] = externalAddresses();
    const config = TimelineConfig.fromEnvironment({ ...service.env, ADMIN_HOST: address, ADMIN_PORT: '0' });
    const exposed = await createAdminApp(service.projector, config);
    try {
      await exposed.listen(config.admin.port, config.admin.host);
      const exposedPort = (exposed.getHttpServer().address() as net.AddressInfo).port;
      expect(await connects(address, exposedPort)).toBe(true);
    } finally {
      await exposed.close();
    }
  });

  test('needs an ops token: 401 without one, 403 without ops, 200 with it', async () => {
    const client = new HttpClient(`http://127.0.0.1:${port}`, null);
    expectProblem(await client.get('/admin/rebuild'), 401, '/problems/unauthorized');
    expectProblem(await client.withToken(testToken({ scope: 'timelines:read timelines:write' })).get('/admin/rebuild'), 403, '/problems/forbidden');
    expect((await client.withToken(testToken({ scope: 'ops' })).get('/admin/rebuild')).body).toMatchObject({ state: 'idle' });
  });

  test('takes only a JSON body: text/plain (what a cross-site form sends) or none is 415 and starts nothing', async () => {
    const operator = new HttpClient(`http://127.0.0.1:${port}`, testToken({ scope: 'ops' }));
    expectProblem(await operator.post('/admin/rebuild', '{"dropRetired":false}', { 'content-type': 'text/plain' }), 415, '/problems/unsupported-media-type');
    expectProblem(await operator.request('POST', '/admin/rebuild', undefined, {}), 415, '/problems/unsupported-media-type');
    expect((await operator.get('/admin/rebuild')).body).toMatchObject({ state: 'idle' });
  });

  test('is not served on the projector health port any more', async () => {
    await service.projector.listen(0, '127.0.0.1');
    const projector = new HttpClient(await service.projector.getUrl(), testToken({ scope: 'ops' }));
    expect((await projector.get('/admin/rebuild')).status).toBe(404);
  });
});
