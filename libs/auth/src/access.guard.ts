import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { TimelineConfig } from '@timeline/config';
import { Problem } from '@timeline/problems';
import type { FastifyRequest } from 'fastify';
import { PUBLIC_ROUTE, REQUIRED_SCOPE } from './access-rules';
import { checkAccess, type Grant, type Scope, type TimelineReach } from './grant';
import { InvalidToken, TokenVerifier } from './token-verifier';

/** How an app tells which timelines a request touches (the api's routes name them in the path, the query, or through an event). */
export abstract class TimelineReachResolver {
  abstract reachOf(request: FastifyRequest): Promise<TimelineReach>;
}

const grants = new WeakMap<object, Grant>();

/** The verified grant of a request, once the guard has passed it; null for a public route or an anonymous public read. */
export function grantOf(request: object): Grant | null {
  return grants.get(request) ?? null;
}

/** The bearer token of an `Authorization` header; undefined when there is none, null when the header is not a bearer token. */
export function bearerTokenOf(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match ? match[1] : null;
}

export function unauthorized(detail: string, tokenGiven: boolean): Problem {
  const challenge = tokenGiven ? 'Bearer error="invalid_token"' : 'Bearer';
  return new Problem('unauthorized', detail, {}, { 'www-authenticate': challenge });
}

export function forbidden(detail: string, scope: Scope): Problem {
  return new Problem('forbidden', detail, { scope }, { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scope}"` });
}

/**
 * Every route's access rule (`@RequiresScope`, `@Public`), enforced before any other guard: no token is 401,
 * a token that does not verify 401, a token without the scope or outside its timelines 403. Routes without a
 * rule are refused. The token itself is never logged or echoed.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly verifier: TokenVerifier,
    private readonly config: TimelineConfig,
    @Optional() @Inject(TimelineReachResolver) private readonly reach: TimelineReachResolver | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(REQUIRED_SCOPE, targets);
    if (!scope) throw new Problem('forbidden', 'this route has no access rule, so it is refused to everyone');
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const grant = await this.authenticate(request, scope);
    if (!grant) return true;
    grants.set(request, grant);
    await this.authorize(request, grant, scope);
    return true;
  }

  /** The request's grant; null for an anonymous read that AUTH_PUBLIC_READ lets through. */
  private async authenticate(request: FastifyRequest, scope: Scope): Promise<Grant | null> {
    const token = bearerTokenOf(request.headers.authorization);
    if (token === undefined) {
      if (scope === 'timelines:read' && this.config.auth.publicRead) return null;
      throw unauthorized(`this route needs a bearer token with scope ${scope}`, false);
    }
    if (token === null) throw unauthorized('the Authorization header is not a bearer token', true);
    try {
      return await this.verifier.verify(token);
    } catch (error) {
      if (error instanceof InvalidToken) throw unauthorized(error.message, true);
      throw error;
    }
  }

  private async authorize(request: FastifyRequest, grant: Grant, scope: Scope): Promise<void> {
    // Only a narrowed grant needs to know the timelines; the others skip the lookup.
    const reach = grant.timelines !== null && scope !== 'ops' && this.reach ? await this.reach.reachOf(request) : 'all';
    const decision = checkAccess(grant, scope, reach);
    if (decision.allowed) return;
    throw forbidden(
      decision.reason === 'insufficient_scope'
        ? `the token does not have scope ${scope}`
        : 'the token is limited to other timelines, or this request is not confined to the timelines it names (see docs/access.md)',
      scope,
    );
  }
}
