import type { FastifyRequest } from 'fastify';

/**
 * Who a request comes from, for per-client limits: its address for now (the
 * proxy's X-Forwarded-For entry when HTTP_TRUST_PROXY trusts the proxy). With
 * authentication this becomes the token's subject; nothing else reads it.
 */
export function clientOf(request: Pick<FastifyRequest, 'ip'>): string {
  return request.ip;
}
