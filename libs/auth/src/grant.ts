/** What a token may do: the scopes of RFC 9068's `scope` claim that this service knows. */
export const SCOPES = ['timelines:read', 'timelines:write', 'ops'] as const;
export type Scope = (typeof SCOPES)[number];

/** A verified token's subject, scopes, and the timelines its timeline scopes are narrowed to (null: every timeline). */
export interface Grant {
  subject: string | null;
  scopes: ReadonlySet<Scope>;
  timelines: ReadonlySet<string> | null;
  /** When the token stops being accepted (ms since the epoch: `exp`, plus the verifier's clock tolerance); null without `exp`. */
  expiresAt: number | null;
}

/** The timelines a request touches: named ones, or `all` when its parameters do not confine it (a list, a search across timelines). */
export type TimelineReach = { timelines: readonly string[] } | 'all';

export type AccessDecision = { allowed: true } | { allowed: false; reason: 'insufficient_scope' | 'outside_timelines' };

const isScope = (value: unknown): value is Scope => SCOPES.includes(value as Scope);

/**
 * Reads a grant from a verified token's claims: `scope` (space-separated, RFC 9068) or `scp` (an array, as some
 * identity providers send it); `timelines`, an array of timeline ids, narrows the timeline scopes. Unknown
 * scopes are ignored; a `timelines` claim that is not an array of strings narrows to nothing.
 */
export function grantFromClaims(claims: Record<string, unknown>): Grant {
  const listed = typeof claims.scope === 'string' ? claims.scope.split(' ') : Array.isArray(claims.scp) ? claims.scp : [];
  const timelines = claims.timelines;
  return {
    subject: typeof claims.sub === 'string' && claims.sub !== '' ? claims.sub : null,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
    scopes: new Set(listed.filter(isScope)),
    timelines: timelines === undefined ? null : new Set(Array.isArray(timelines) ? timelines.filter((id): id is string => typeof id === 'string') : []),
  };
}

/** Whether a grant lets a request with this scope reach these timelines. `ops` is never narrowed. */
export function checkAccess(grant: Grant, scope: Scope, reach: TimelineReach): AccessDecision {
  if (!grant.scopes.has(scope)) return { allowed: false, reason: 'insufficient_scope' };
  if (scope === 'ops' || grant.timelines === null) return { allowed: true };
  const permitted = grant.timelines;
  if (reach === 'all' || reach.timelines.some((id) => !permitted.has(id))) return { allowed: false, reason: 'outside_timelines' };
  return { allowed: true };
}
