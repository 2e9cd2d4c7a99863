import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import { isNeverShed, shedProblem } from './load-shedding';

const shedding = (env: Record<string, string> = {}) => TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', ...env }).shedding;

describe('load shedding', () => {
  test('a shed request is 503 overloaded, not recorded, retryable after Retry-After, and says which bound it passed', () => {
    const problem = shedProblem('event_loop_delay', 312.4, shedding());
    expect(problem).toMatchObject({ status: 503, code: 'overloaded', extensions: { retryable: true, recorded: false }, headers: { 'retry-after': '1' } });
    expect(problem.detail).toContain('312 ms');
    expect(problem.detail).toContain('SHED_MAX_EVENT_LOOP_DELAY_MS');
  });

  test('health probes and the metrics scrape are never shed; every other route, and no route, may be', () => {
    expect(['/health/live', '/health/ready', '/metrics'].every(isNeverShed)).toBe(true);
    expect(isNeverShed('/v1/timelines/:timelineId/events')).toBe(false);
    expect(isNeverShed(undefined)).toBe(false);
  });
});
