import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseModule } from '@timeline/database';
import { ExtraReadinessCheck, HealthController } from './health.controller';

/** `/health/live` and `/health/ready` for an app; `extraChecks` are the app's own readiness conditions. */
@Module({})
export class HealthModule {
  static forRoot(extraChecks: Type<ExtraReadinessCheck>[] = []): DynamicModule {
    return {
      module: HealthModule,
      imports: [TerminusModule.forRoot({ logger: false }), DatabaseModule],
      controllers: [HealthController],
      providers: [...extraChecks, { provide: ExtraReadinessCheck, inject: extraChecks, useFactory: (...checks: ExtraReadinessCheck[]) => checks }],
    };
  }
}
