import { Controller, Get, Param, Res } from '@nestjs/common';
import { Public } from '@timeline/auth';
import { TimelineConfig } from '@timeline/config';
import type { FastifyReply } from 'fastify';
import { Problem } from '@timeline/problems';
import { asyncApiDocument } from './asyncapi';
import { changeDataJsonSchema, isChangeEventType, type JsonSchema } from './json-schemas';

/** The published contract: the AsyncAPI document and the JSON Schemas that `ce_dataschema` names. */
@Public()
@Controller()
export class ContractController {
  private readonly document: Record<string, unknown>;

  constructor(private readonly config: TimelineConfig) {
    this.document = asyncApiDocument(config);
  }

  @Get('asyncapi.json')
  asyncApi() {
    return this.document;
  }

  @Get('schemas/:file')
  schema(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): JsonSchema {
    const type = file.replace(/\.json$/, '');
    if (!file.endsWith('.json') || !isChangeEventType(type)) throw new Problem('not-found', `no schema ${file}`);
    void reply.header('content-type', 'application/schema+json');
    return changeDataJsonSchema(type, this.config.publicBaseUrl);
  }
}
