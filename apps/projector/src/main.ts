import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { configFromEnvironmentOrExit } from '@timeline/config';
import { createProjectorApp } from './projector.app';
import { createAdminApp } from './rebuild/admin.app';

async function main(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  const app = await createProjectorApp(config);
  await app.listen(config.http.projectorPort, config.http.host);
  const admin = await createAdminApp(app, config);
  await admin.listen(config.admin.port, config.admin.host);
  // The admin listener closes before the projector's shutdown hooks end the rebuild it may be asked about.
  process.once('SIGTERM', () => void admin.close());
  process.once('SIGINT', () => void admin.close());
  new Logger('projector').log(`consuming ${config.kafka.commandsTopic}; health on ${await app.getUrl()}; admin on ${await admin.getUrl()}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
