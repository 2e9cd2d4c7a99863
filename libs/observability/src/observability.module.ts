import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { DatabaseModule } from '@timeline/database';
import { LoggerModule } from 'nestjs-pino';
import { Pool } from 'pg';
import { HttpInstrumentation } from './http-instrumentation';
import { loggingParams } from './logging';
import { ServiceMetrics, type AppName } from './metrics';
import { MetricsController } from './metrics.controller';
import { flushTraces } from './tracing';

/** Watches what every app has: the PostgreSQL pool and the Kafka producers; flushes traces at shutdown. */
class RuntimeWatch implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CommandLog) private readonly log: CommandLog,
  ) {}

  onModuleInit(): void {
    this.metrics.watchPool(() => this.pool);
    this.metrics.watchProducers(() => this.log.producerStates());
  }

  async onApplicationShutdown(): Promise<void> {
    await flushTraces().catch(() => undefined);
  }
}

/** An app's own metrics: a class that registers them on the process's registry. */
export type AppMetricsClass = new (service: ServiceMetrics) => object;

/**
 * Logs (pino, request id on every line), `/metrics` and request spans for one
 * app, with the app's own metrics (`appMetrics`) provided to all its modules.
 * Tracing itself is set up before the app is created (`setupTracing`).
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(config: TimelineConfig, app: AppName, appMetrics: AppMetricsClass): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [LoggerModule.forRoot(loggingParams(config, app)), DatabaseModule],
      controllers: [MetricsController],
      providers: [
        { provide: ServiceMetrics, useFactory: () => new ServiceMetrics() },
        { provide: appMetrics, inject: [ServiceMetrics], useFactory: (service: ServiceMetrics) => new appMetrics(service) },
        HttpInstrumentation,
        RuntimeWatch,
      ],
      exports: [ServiceMetrics, appMetrics],
    };
  }
}
