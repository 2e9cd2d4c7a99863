import { grantOf } from '@timeline/auth';
import type { FastifyRequest } from 'fastify';

/**
 * Who a request comes from, for per-client limits: the token's subject when the request carries a verified
 * token with one, else its address (the proxy's X-Forwarded-For entry when HTTP_TRUST_PROXY trusts the proxy).
 * Subjects and addresses are kept apart by a prefix, so a subject cannot take an address's bucket.
 */
export function clientOf(request: Pick<FastifyRequest, 'ip'>): string {
  const subject = grantOf(request)?.subject;
  return subject ? `sub:${subject}` : request.ip;
}
