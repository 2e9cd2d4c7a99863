import { Controller, Get, Inject, type OnModuleInit } from '@nestjs/common';
import { Public } from '@timeline/auth';
import { HealthCheck, HealthCheckService, HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CommandLog } from '@timeline/command-log';
import { TimelineConfig } from '@timeline/config';
import { migrationsAreCurrent } from '@timeline/database';
import { ServiceMetrics } from '@timeline/observability';
import { Pool } from 'pg';

/** An app's own condition for readiness, beside PostgreSQL and Kafka (the projector adds its lag). */
export abstract class ExtraReadinessCheck {
  abstract readonly key: string;
  abstract check(): Promise<{ ready: boolean; detail: Record<string, unknown> }>;
}

@Public()
@Controller('health')
export class HealthController implements OnModuleInit {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly config: TimelineConfig,
    private readonly pool: Pool,
    private readonly log: CommandLog,
    @Inject(ExtraReadinessCheck) private readonly extraChecks: ExtraReadinessCheck[],
    private readonly metrics: ServiceMetrics,
  ) {}

  /** `timeline_ready` on /metrics runs the same checks, so an alert sees what a load balancer's probe sees. */
  onModuleInit(): void {
    this.metrics.watchReadiness(async () => {
      const checks = await Promise.all([this.postgres(), this.kafka(), ...this.extraChecks.map((extra) => this.extra(extra))]).catch(() => null);
      return checks?.every((result) => Object.values(result).every((indicator) => indicator.status === 'up')) ?? false;
    });
  }

  /** The process is up and serving HTTP. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }

  /** Ready only when PostgreSQL answers with every migration applied and Kafka answers. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.postgres(), () => this.kafka(), ...this.extraChecks.map((extra) => () => this.extra(extra))]);
  }

  private async postgres(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('postgres');
    try {
      const current = await migrationsAreCurrent(this.pool, this.config.database.schema);
      return current ? session.up() : session.down({ message: 'migrations pending' });
    } catch (error) {
      return session.down({ message: (error as Error).message });
    }
  }

  private async kafka(): Promise<HealthIndicatorResult> {
    const session = this.indicators.check('kafka');
    return (await this.log.isReachable()) ? session.up() : session.down({ message: 'no broker answers' });
  }

  private async extra(extra: ExtraReadinessCheck): Promise<HealthIndicatorResult> {
    const session = this.indicators.check(extra.key);
    const { ready, detail } = await extra.check();
    return ready ? session.up(detail) : session.down(detail);
  }
}
