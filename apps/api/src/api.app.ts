import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TimelineConfig } from '@timeline/config';
import { setupTracing } from '@timeline/observability';
import { problemAwareServerOptions, requestTimeoutOptions } from '@timeline/problems';
import { Logger } from 'nestjs-pino';
import { ApiModule } from './api.module';
import { registerLoadShedding } from './http/load-shedding';
import { ApiMetrics } from './observability/api-metrics';

/** Builds the api application; `main.ts` listens with it, end-to-end tests too. */
export async function createApiApp(config: TimelineConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    // Request ids travel in logs and problem details; a caller's own id is kept when it is safe to echo.
    ...problemAwareServerOptions,
    ...requestTimeoutOptions(config.http),
    // Rate and stream limits count per client address; behind a proxy it is X-Forwarded-For's, when the proxy is trusted.
    trustProxy: config.http.trustProxy,
    // By the time the server closes, shutdown hooks have ended streams and answered waiting writes;
    // a socket still open then belongs to a client that stopped reading: don't wait for it.
    forceCloseConnections: true,
  });
  await setupTracing({ exporter: config.tracing.exporter, serviceName: config.tracing.serviceName ?? 'timeline-api' });
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config), adapter, { bufferLogs: true });
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.enableShutdownHooks();
  registerLoadShedding(app, config.shedding, app.get(ApiMetrics));
  return app;
}
