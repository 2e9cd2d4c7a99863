import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { configFromEnvironmentOrExit } from '@timeline/config';
import { createProjectorApp } from './projector.app';

async function main(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  const app = await createProjectorApp(config);
  await app.listen(config.http.projectorPort, config.http.host);
  new Logger('projector').log(`consuming ${config.kafka.commandsTopic}; health on ${await app.getUrl()}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
