import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { TimelineConfig } from '@timeline/config';
import { setupTracing } from '@timeline/observability';
import { problemAwareServerOptions, requestTimeoutOptions } from '@timeline/problems';
import { Logger } from 'nestjs-pino';
import { ProjectorModule } from './projector.module';
import { ProjectorService } from './projection/projector.service';
import { OutboxRelay } from './relay/outbox-relay';

/** The projector: consumes timeline.commands, relays the outbox to timeline.events; answers health on its own port. */
export async function createProjectorApp(config: TimelineConfig): Promise<NestFastifyApplication> {
  await setupTracing({ exporter: config.tracing.exporter, serviceName: config.tracing.serviceName ?? 'timeline-projector' });
  const app = await NestFactory.create<NestFastifyApplication>(
    ProjectorModule.forRoot(config),
    new FastifyAdapter({ ...problemAwareServerOptions, ...requestTimeoutOptions(config.http) }),
    {
      bufferLogs: true,
    },
  );
  app.useLogger(app.get(Logger));
  app.flushLogs();
  app.enableShutdownHooks();
  await app.init();
  await app.get(ProjectorService).start();
  await app.get(OutboxRelay).start();
  return app;
}
