import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import { EventLoopPressure, pressureIn, SAMPLES_AN_OVERLOAD_LASTS, sampleOf, type EventLoopSample } from './event-loop-pressure';

const shedding = (env: Record<string, string> = {}) => TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', ...env }).shedding;
const late = (eventLoopDelay = 250): EventLoopSample => ({ eventLoopDelay, eventLoopUtilized: 1 });
const onTime: EventLoopSample = { eventLoopDelay: 3, eventLoopUtilized: 0.4 };
const onTimeFor = (samples: number) => Array.from({ length: samples }, () => onTime);

/** Given these samples, what requests are refused for now. */
function after(samples: EventLoopSample[], config = shedding({ SHED_MAX_EVENT_LOOP_DELAY_MS: '100' })) {
  const pressure = new EventLoopPressure(config);
  for (const sample of samples) pressure.record(sample);
  return pressure.current();
}

describe('event-loop pressure', () => {
  test('a sample later than SHED_MAX_EVENT_LOOP_DELAY_MS is late; one on time, or a bound of 0, is not', () => {
    const config = shedding({ SHED_MAX_EVENT_LOOP_DELAY_MS: '100' });
    expect(pressureIn(late(250), config)).toEqual({ reason: 'event_loop_delay', value: 250 });
    expect(pressureIn(late(100), config)).toBeNull();
    expect(pressureIn(late(5_000), shedding({ SHED_MAX_EVENT_LOOP_DELAY_MS: '0' }))).toBeNull();
  });

  test('utilisation counts only when SHED_MAX_EVENT_LOOP_UTILIZATION is set', () => {
    const busy = { eventLoopDelay: 0, eventLoopUtilized: 0.99 };
    expect(pressureIn(busy, shedding())).toBeNull();
    expect(pressureIn(busy, shedding({ SHED_MAX_EVENT_LOOP_UTILIZATION: '0.95' }))).toEqual({ reason: 'event_loop_utilization', value: 0.99 });
  });

  test('given no sample, nothing is refused', () => {
    expect(after([])).toBeNull();
  });

  test('given one stall (a late sample between samples on time), nothing is refused', () => {
    expect(after([onTime, late(600)])).toBeNull();
    expect(after([onTime, late(600), onTime])).toBeNull();
  });

  test('given a loop late sample after sample, requests are refused with the latest delay', () => {
    expect(after([onTime, late(150), late(320)])).toEqual({ reason: 'event_loop_delay', value: 320 });
    expect(after([late(150), late(320), late(180)])).toEqual({ reason: 'event_loop_delay', value: 180 });
  });

  test('when a sample is on time again, refusing stops at once', () => {
    expect(after([late(), late(), onTime])).toBeNull();
  });

  test('given refusing lately, one late sample refuses again: the overload goes on', () => {
    expect(after([late(), late(), onTime, late(170)])).toEqual({ reason: 'event_loop_delay', value: 170 });
    expect(after([late(), late(), ...onTimeFor(SAMPLES_AN_OVERLOAD_LASTS - 1), late()])).toMatchObject({ reason: 'event_loop_delay' });
  });

  test('given an overload long over, one late sample is a stall again and refuses nothing', () => {
    expect(after([late(), late(), ...onTimeFor(SAMPLES_AN_OVERLOAD_LASTS), late()])).toBeNull();
  });

  test('a reading with ticks is their mean delay; one without, over a whole sample, is the turn it spanned', () => {
    expect(sampleOf({ ticks: 20, meanDelayMs: 4, elapsedMs: 251, utilization: 0.3 }, 250)).toEqual({ eventLoopDelay: 4, eventLoopUtilized: 0.3 });
    // A turn of the loop outlasted the sample: the histogram recorded nothing, a request waited up to the turn.
    expect(sampleOf({ ticks: 0, meanDelayMs: 0, elapsedMs: 400, utilization: 1 }, 250)).toEqual({ eventLoopDelay: 400, eventLoopUtilized: 1 });
  });

  test('a reading without ticks right after another (the sampler catching up after a stall) is no sample', () => {
    expect(sampleOf({ ticks: 0, meanDelayMs: 0, elapsedMs: 0.2, utilization: 1 }, 250)).toBeNull();
  });
});
