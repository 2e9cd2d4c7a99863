import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { Public } from '@timeline/auth';
import type { FastifyReply } from 'fastify';
import { Problem } from '@timeline/problems';
import { docsAsset, docsPage, isDocsAsset } from './docs-page';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document';

/** `GET /openapi.json`, and `GET /docs`: Swagger UI on it, with its files from swagger-ui-dist. */
@Public()
@Controller()
export class OpenApiController {
  private document: OpenApiDocument | undefined;

  @Get('openapi.json')
  openApi(): OpenApiDocument {
    this.document ??= buildOpenApiDocument();
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  docs(): string {
    return docsPage('/openapi.json');
  }

  @Get('docs/assets/:asset')
  asset(@Param('asset') name: string, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    if (!isDocsAsset(name)) throw new Problem('not-found', `no asset ${name}`);
    const { body, contentType } = docsAsset(name);
    void reply.header('content-type', contentType).header('cache-control', 'public, max-age=86400');
    return body;
  }
}
