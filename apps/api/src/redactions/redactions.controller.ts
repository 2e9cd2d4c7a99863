import { Body, Controller, Get, Headers, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { RequiresScope } from '@timeline/auth';
import { parseOrThrow } from '@timeline/problems';
import type { FastifyReply } from 'fastify';
import { send } from '../write-path/decision-answer';
import { parseRedactionId } from '../http/path-params';
import { writeHeaders } from '../http/request-headers';
import { GetRedaction, RedactRequest } from './redaction.requests';
import { redactBodySchema } from './redactions.schemas';

/** `/v1/redactions`: an operator's removal of a person or a source. Every route here needs the `ops` scope. */
@Controller('v1/redactions')
@RequiresScope('ops')
export class RedactionsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  async redact(@Body() body: unknown, @Headers() headers: Record<string, string | undefined>, @Res({ passthrough: true }) reply: FastifyReply) {
    const request = new RedactRequest(parseOrThrow(redactBodySchema, body, 'body'), body, writeHeaders(headers));
    return send(reply, await this.commandBus.execute(request));
  }

  @Get(':redactionId')
  getRedaction(@Param('redactionId') redactionId: string) {
    return this.queryBus.execute(new GetRedaction(parseRedactionId(redactionId)));
  }
}
