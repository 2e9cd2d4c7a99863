import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ReadRouter } from '@timeline/database';
import { ApiMetrics } from '../observability/api-metrics';

/** Puts read routing on /metrics: reads answered per server, and each replica's rotation and lag on each scrape. */
@Injectable()
export class ReadRoutingMetrics implements OnModuleInit {
  constructor(
    private readonly router: ReadRouter,
    private readonly metrics: ApiMetrics,
  ) {}

  onModuleInit(): void {
    this.metrics.watchReadRouting(this.router.serverNames, () => this.router.replicaStatuses());
    this.router.observeReads((server) => this.metrics.readAnswered(server));
  }
}
