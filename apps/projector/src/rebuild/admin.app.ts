import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AccessGuard, TokenVerifier } from '@timeline/auth';
import { ConfigModule, type TimelineConfig } from '@timeline/config';
import { databaseUnavailableProblem } from '@timeline/database';
import { problemAwareServerOptions, ProblemDetailsFilter, requestTimeoutOptions } from '@timeline/problems';
import { Logger } from 'nestjs-pino';
import { ReadModelRebuild } from './read-model-rebuild';
import { RebuildController, type RebuildControl } from './rebuild.controller';

/**
 * The admin endpoints, on a listener of their own (ADMIN_HOST, loopback by default) apart from the projector's
 * health and metrics port. A second small Nest app rather than a bare Fastify instance, so that the same
 * access guard, exception filter and controller serve it; it shares the projector's `ReadModelRebuild`
 * and token verifier, the instances the running projector uses.
 */
@Module({})
class AdminModule {
  static forRoot(config: TimelineConfig, rebuild: ReadModelRebuild, verifier: TokenVerifier): DynamicModule {
    return {
      module: AdminModule,
      imports: [ConfigModule.forRoot(config)],
      controllers: [RebuildController],
      providers: [
        // Only what the endpoints call: closing this app must not run the projector's shutdown hooks of the rebuild.
        { provide: ReadModelRebuild, useValue: { start: rebuild.start.bind(rebuild), status: rebuild.status.bind(rebuild) } satisfies RebuildControl },
        { provide: TokenVerifier, useValue: verifier },
        { provide: APP_FILTER, useValue: new ProblemDetailsFilter([databaseUnavailableProblem]) },
        { provide: APP_GUARD, useClass: AccessGuard },
      ],
    };
  }
}

/** Builds the admin app beside a projector app; the caller listens on `config.admin` with it. */
export async function createAdminApp(projector: NestFastifyApplication, config: TimelineConfig): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({ ...problemAwareServerOptions, ...requestTimeoutOptions(config.http) });
  // Fastify reads text/plain bodies by default: the content type a cross-site form may send without a preflight.
  adapter.getInstance().removeContentTypeParser('text/plain');
  const module = AdminModule.forRoot(config, projector.get(ReadModelRebuild), projector.get(TokenVerifier));
  const app = await NestFactory.create<NestFastifyApplication>(module, adapter, { logger: projector.get(Logger) });
  await app.init();
  return app;
}
