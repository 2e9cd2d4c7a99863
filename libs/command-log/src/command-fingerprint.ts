import { createHash } from 'node:crypto';
import type { TimelineCommand } from '@timeline/domain';

/** A command as a request describes it; the submission gives it its id and fingerprint. */
export type CommandDraft = TimelineCommand extends infer C ? (C extends TimelineCommand ? Omit<C, 'commandId' | 'fingerprint'> : never) : never;

/** The fingerprint a command carries of the request that made it: a retry with the same Idempotency-Key must match it. */
export function fingerprintOf(request: unknown): string {
  return createHash('sha256').update(canonicalJson(request)).digest('base64url');
}

/** JSON with object keys sorted, so that key order does not change a fingerprint. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, inner]) => inner !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
