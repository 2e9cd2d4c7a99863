import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { configFromEnvironmentOrExit } from '@timeline/config';
import { createApiApp } from './api.app';

async function main(): Promise<void> {
  const config = configFromEnvironmentOrExit();
  const app = await createApiApp(config);
  await app.listen({ port: config.http.port, host: config.http.host, backlog: config.http.listenBacklog });
  new Logger('api').log(`listening on ${await app.getUrl()}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
