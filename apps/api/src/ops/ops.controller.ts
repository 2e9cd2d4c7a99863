import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Problem } from '@timeline/problems';
import { isOpsAsset, opsAsset, opsPage } from './ops-assets';
import { OpsStatusService, type OpsStatus } from './ops-status';

/** `GET /ops`: the operators' page; `GET /ops/status`: the JSON it polls. */
@Controller('ops')
export class OpsController {
  constructor(private readonly ops: OpsStatusService) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): Buffer {
    return opsPage();
  }

  @Get('status')
  @Header('cache-control', 'no-store')
  status(): Promise<OpsStatus> {
    return this.ops.status();
  }

  @Get('assets/:asset')
  asset(@Param('asset') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    if (!isOpsAsset(name)) throw new Problem('not-found', `no asset ${name}`);
    const { body, contentType } = opsAsset(name);
    void reply.header('content-type', contentType).header('cache-control', 'no-cache');
    return body;
  }
}
