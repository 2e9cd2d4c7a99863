import { Controller, Get, Res } from '@nestjs/common';
import { RequiresScope } from '@timeline/auth';
import type { FastifyReply } from 'fastify';
import { ServiceMetrics } from './metrics';

/** `/metrics`: the Prometheus text format, on the app's own port. */
@RequiresScope('ops')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ServiceMetrics) {}

  @Get()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const text = await this.metrics.registry.metrics();
    await reply.header('content-type', this.metrics.registry.contentType).send(text);
  }
}
