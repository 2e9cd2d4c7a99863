import { describe, expect, test } from '@jest/globals';
import { TimelineConfig } from '@timeline/config';
import { ServiceMetrics } from '@timeline/observability';
import { ApiMetrics } from '../observability/api-metrics';
import { Problem } from '@timeline/problems';
import { Admission } from './admission';

function admissionOf(maxWaiting: number) {
  const service = new ServiceMetrics();
  const config = TimelineConfig.fromEnvironment({ AUTH_PUBLIC_READ: 'true', ADMISSION_MAX_WAITING: String(maxWaiting), BATCH_MAX_EVENTS: '1' });
  return { admission: new Admission(config, new ApiMetrics(service)), registry: service.registry };
}

/** A promise with its resolve, for work a test finishes when it wants. */
function held() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  return { done, release };
}

describe('Admission', () => {
  test('past ADMISSION_MAX_WAITING a write is refused 503 overloaded, not recorded, with Retry-After, and its work never runs', async () => {
    const { admission } = admissionOf(3);
    const work = held();
    const admitted = admission.whileAdmitted(2, () => work.done);
    let ran = false;
    const refused = admission.whileAdmitted(2, async () => void (ran = true));
    await expect(refused).rejects.toBeInstanceOf(Problem);
    await expect(refused).rejects.toMatchObject({
      code: 'overloaded',
      status: 503,
      extensions: { recorded: false, retryable: true },
      headers: { 'retry-after': '1' },
    });
    expect(ran).toBe(false);
    work.release();
    await admitted;
  });

  test('slots are held until the work ends, also when it fails, then free again', async () => {
    const { admission } = admissionOf(2);
    const work = held();
    const first = admission.whileAdmitted(2, () => work.done);
    expect(admission.waitingCommands).toBe(2);
    await expect(admission.whileAdmitted(1, async () => 'late')).rejects.toMatchObject({ code: 'overloaded' });
    work.release();
    await first;
    await expect(admission.whileAdmitted(2, async () => Promise.reject(new Error('append failed')))).rejects.toThrow('append failed');
    expect(admission.waitingCommands).toBe(0);
    await expect(admission.whileAdmitted(2, async () => 'admitted')).resolves.toBe('admitted');
  });

  test('refused commands are counted by reason, and the waiting ones are a gauge', async () => {
    const { admission, registry } = admissionOf(1);
    const work = held();
    const admitted = admission.whileAdmitted(1, () => work.done);
    await admission.whileAdmitted(1, async () => undefined).catch(() => undefined);
    admission.refuse('append_queue', 3, 'queue full');
    const metrics = await registry.metrics();
    expect(metrics).toContain('timeline_api_commands_refused_total{reason="waiting_decisions"} 1');
    expect(metrics).toContain('timeline_api_commands_refused_total{reason="append_queue"} 3');
    expect(metrics).toContain('timeline_api_commands_waiting 1');
    work.release();
    await admitted;
  });
});
