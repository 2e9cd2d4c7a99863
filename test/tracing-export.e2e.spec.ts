import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { expectEventually } from './support/eventually';
import { HttpClient } from './support/http-client';
import { freePort } from '@timeline/dev-stack';
import { TestTimelineService } from './support/timeline-service';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links?: { traceId: string; spanId: string }[];
}

/** A stand-in OpenTelemetry collector: keeps the spans that OTLP/HTTP (JSON) exporters send it. */
async function startCollector(): Promise<{ server: Server; url: string; spans: ExportedSpan[] }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans);
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans };
}

/**
 * Starts an app as its own process, as in production, and waits for its health.
 * (The OTLP exporter loads `http` with a dynamic import, which jest's module
 * sandbox refuses: exporting apps run outside it.)
 */
async function startApp(entry: string, env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, ...env, SWC_NODE_PROJECT: 'tsconfig.json' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await expectEventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`${entry} exited with ${child.exitCode}`);
      if (!(await fetch(`http://127.0.0.1:${port}/health/live`)).ok) throw new Error(`${entry} not live yet`);
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
  return child;
}

describe('traces exported when OTEL_TRACES_EXPORTER=otlp', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let service: TestTimelineService;
  let api: HttpClient;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    collector = await startCollector();
    service = await TestTimelineService.start({ projector: 'none' });
    const [apiPort, projectorPort] = [await freePort(), await freePort()];
    const env = {
      ...service.env,
      HTTP_PORT: String(apiPort),
      PROJECTOR_HTTP_PORT: String(projectorPort),
      ADMIN_PORT: '0',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    children.push(await startApp('apps/projector/src/main.ts', env, projectorPort));
    children.push(await startApp('apps/api/src/main.ts', env, apiPort));
    api = new HttpClient(`http://127.0.0.1:${apiPort}`);
  });
  afterAll(async () => {
    for (const child of children) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await service?.stop();
    await new Promise((resolve) => collector?.server.close(resolve));
  });

  test('one trace holds the request span (child of the caller), its decision, and the traceparent published with the change', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const id = `exported-${randomUUID().slice(0, 8)}`;
    const created = await api.put(`/v1/timelines/${id}`, { title: 'Esportato', defaultLanguage: 'it' }, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect(created.status).toBe(201);

    const { server, decide, batch } = await expectEventually(
      () => {
        const ofTrace = collector.spans.filter((span) => span.traceId === traceId);
        const server = ofTrace.find((span) => span.name === 'PUT /v1/timelines/:timelineId');
        const decide = ofTrace.find((span) => span.name === 'decide CreateTimeline');
        const batch = collector.spans.find((span) => span.links?.some((link) => link.traceId === traceId));
        if (!server || !decide || !batch) throw new Error(`spans of the trace so far: ${ofTrace.map((span) => span.name).join(', ')}`);
        return { server, decide, batch };
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(server.parentSpanId).toBe(callerSpanId);
    expect(decide.parentSpanId).toBe(server.spanId);
    expect(batch.name).toBe(`process ${service.config.kafka.commandsTopic}`);

    const { rows } = await service.pool.query<{ traceparent: string }>('select traceparent from outbox where timeline_id = $1', [id]);
    expect(rows[0].traceparent).toBe(`00-${traceId}-${server.spanId}-01`);
  });
});
