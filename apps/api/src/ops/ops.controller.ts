import { Controller, Get, Header, Headers, Param, Res } from '@nestjs/common';
import { Public, RequiresScope } from '@timeline/auth';
import type { FastifyReply } from 'fastify';
import { Problem } from '@timeline/problems';
import { consistencyTokenOf, CONSISTENCY_TOKEN_HEADER } from '../http/consistency-token';
import { isOpsAsset, opsAsset, opsPage, runbooksPage } from './ops-assets';
import { OpsStatusService, type OpsStatus } from './ops-status';

/** `GET /ops`: the operators' page; `GET /ops/status`: the JSON it polls; `GET /ops/runbooks`: what to do when something fails. */
@Controller('ops')
export class OpsController {
  constructor(private readonly ops: OpsStatusService) {}

  // The page is a shell with no data: its script fetches /ops/status with the operator's token.
  @Public()
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  page(): Buffer {
    return opsPage();
  }

  // What to do when something fails: public, like the page, and the same text as docs/runbooks.md.
  @Public()
  @Get('runbooks')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-cache')
  runbooks(): Buffer {
    return runbooksPage();
  }

  @RequiresScope('ops')
  @Get('status')
  @Header('cache-control', 'no-store')
  status(@Headers(CONSISTENCY_TOKEN_HEADER) token?: string): Promise<OpsStatus> {
    return this.ops.status(Date.now(), consistencyTokenOf(token));
  }

  @Public()
  @Get('assets/:asset')
  asset(@Param('asset') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    if (!isOpsAsset(name)) throw new Problem('not-found', `no asset ${name}`);
    const { body, contentType } = opsAsset(name);
    void reply.header('content-type', contentType).header('cache-control', 'no-cache');
    return body;
  }
}
