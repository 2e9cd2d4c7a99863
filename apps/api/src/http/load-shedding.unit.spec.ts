import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import { isNeverShed, pressureIn, shedProblem } from './load-shedding';

const shedding = (env: Record<string, string> = {}) => TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', ...env }).shedding;

describe('load shedding', () => {
  test('an event loop later than SHED_MAX_EVENT_LOOP_DELAY_MS is pressure; one on time, or a bound of 0, is not', () => {
    const config = shedding({ SHED_MAX_EVENT_LOOP_DELAY_MS: '100' });
    expect(pressureIn({ eventLoopDelay: 250, eventLoopUtilized: 0.5 }, config)).toEqual({ reason: 'event_loop_delay', value: 250 });
    // A sample with no timer tick in it (the loop blocked throughout) is measured as Infinity by the plugin.
    expect(pressureIn({ eventLoopDelay: Infinity, eventLoopUtilized: 1 }, config)).toMatchObject({ reason: 'event_loop_delay' });
    expect(pressureIn({ eventLoopDelay: 100, eventLoopUtilized: 1 }, config)).toBeNull();
    expect(pressureIn({ eventLoopDelay: 5_000, eventLoopUtilized: 1 }, shedding({ SHED_MAX_EVENT_LOOP_DELAY_MS: '0' }))).toBeNull();
  });

  test('utilisation sheds only when SHED_MAX_EVENT_LOOP_UTILIZATION is set', () => {
    expect(pressureIn({ eventLoopDelay: 0, eventLoopUtilized: 0.99 }, shedding())).toBeNull();
    expect(pressureIn({ eventLoopDelay: 0, eventLoopUtilized: 0.99 }, shedding({ SHED_MAX_EVENT_LOOP_UTILIZATION: '0.95' }))).toEqual({
      reason: 'event_loop_utilization',
      value: 0.99,
    });
  });

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
