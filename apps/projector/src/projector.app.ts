import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { jsonLogger, type TimelineConfig } from '@timeline/config';
import { ProjectorModule } from './projector.module';
import { ProjectorService } from './projection/projector.service';
import { OutboxRelay } from './relay/outbox-relay';

/** The projector: consumes timeline.commands, relays the outbox to timeline.events; answers health on its own port. */
export async function createProjectorApp(config: TimelineConfig): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(ProjectorModule.forRoot(config), new FastifyAdapter(), {
    logger: jsonLogger(config, 'projector'),
  });
  app.enableShutdownHooks();
  await app.init();
  await app.get(ProjectorService).start();
  await app.get(OutboxRelay).start();
  return app;
}
