import { Controller, Get, Headers, Query, Req, Res } from '@nestjs/common';
import { grantOf, RequiresScope } from '@timeline/auth';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../http/client-identity';
import { parseStreamRequest } from './stream-request';
import { StreamFeed } from './stream-feed';

@Controller('v1/stream')
export class StreamController {
  constructor(private readonly feed: StreamFeed) {}

  /**
   * Server-Sent Events: every accepted change as a structured-mode CloudEvent,
   * `id:` its stream position. Bad parameters are a 400, and a stream past a
   * limit (docs/api.md, Limits) a 429 or 503, before the stream opens.
   */
  @RequiresScope('timelines:read')
  @Get()
  async stream(
    @Query() query: unknown,
    @Headers() headers: Record<string, string | undefined>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { after, afterField, filter, atLeast } = parseStreamRequest(query, headers);
    const admission = await this.feed.admit(clientOf(request), after, afterField);
    // From here on we write the response ourselves; Fastify must not send one.
    reply.hijack();
    if (request.raw.socket.destroyed) {
      // The client left while we looked up its start: no 'close' will come to free its slots.
      admission.releaseCatchUp?.();
      admission.releaseClient();
      return;
    }
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // The connection ends with the stream (an overflow, a shutdown); EventSource reconnects with Last-Event-ID.
      connection: 'close',
      'x-accel-buffering': 'no',
      'x-request-id': String(request.id),
    });
    // A stream outlives its request: it ends when the token that opened it expires (anonymous public reads never do).
    void this.feed.serve(reply.raw, admission, filter, grantOf(request)?.expiresAt ?? null, atLeast);
  }
}
