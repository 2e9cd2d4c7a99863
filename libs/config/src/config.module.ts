import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TimelineConfig } from './timeline-config';

/** Makes the configuration, validated before Nest starts, injectable everywhere. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: TimelineConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: TimelineConfig, useValue: config }], exports: [TimelineConfig] };
  }
}
