import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Lab } from '../scripts/chaos/lab';
import { chaosDetails, chaosTable } from '../scripts/chaos/report';
import { runScenario, type ScenarioResult } from '../scripts/chaos/scenarios';
import { chaosSettings, type ScenarioName } from '../scripts/chaos/settings';

/**
 * The short version of `npm run chaos` (CHAOS_SCALE=small): each scenario once or twice, on a Kafka
 * broker and a PostgreSQL cluster (initdb, and a streaming replica of it for replica-kill) of this file's
 * own, since it kills and restarts them. Every CHAOS_* variable (scripts/chaos/settings.ts) applies, bounds included.
 */
const settings = chaosSettings(
  { CHAOS_SEED: '20261201', CHAOS_WARMUP_MS: '1000', CHAOS_COOLDOWN_MS: '1000', CHAOS_SETTLE_TIMEOUT_MS: '20000', ...process.env, CHAOS_SCALE: 'small' },
  { entry: 'source' },
);
const SCENARIO_TIMEOUT_MS = 180_000;

describe('chaos, short version: faults under a steady write load', () => {
  const lab = new Lab(settings, () => undefined);

  beforeAll(async () => {
    await lab.start({ withCluster: true });
  }, 180_000);
  afterAll(async () => {
    await lab.stop();
  }, 120_000);

  const run = async (name: ScenarioName): Promise<ScenarioResult> => {
    const result = await runScenario(lab, name, settings);
    process.stderr.write(`\n${chaosTable([result])}\n${chaosDetails([result])}\n`);
    return result;
  };

  /** What every scenario holds the service to: nothing acknowledged lost, nothing twice, a replay gives the same read models. */
  const expectInvariants = (result: ScenarioResult) => {
    expect(result.faults).toHaveLength(settings.repetitions[result.name]);
    expect(result.audit.acknowledged).toBeGreaterThan(0);
    expect({
      settled: result.audit.settled,
      lostAcknowledged: result.audit.lostAcknowledged,
      lostPending: result.audit.lostPending,
      duplicated: result.audit.duplicated,
      versionMismatches: result.audit.versionMismatches,
      unpublished: result.audit.unpublished,
      replayEqual: result.audit.replayEqual,
    }).toEqual({ settled: true, lostAcknowledged: 0, lostPending: 0, duplicated: 0, versionMismatches: 0, unpublished: 0, replayEqual: true });
    // Bounded answers, recovery within the bound, scenario checks: each broken one is named.
    expect(result.violations).toEqual([]);
  };

  test(
    'the projector SIGKILLed at random moments and restarted: no acknowledged write is lost or applied twice',
    async () => {
      const result = await run('projector-kill');
      // Writes went on while no projector ran: some waited out the decision bound.
      expect(result.answers.accepted202).toBeGreaterThan(0);
      expectInvariants(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'the projector killed between the relay publishing and marking sent: those changes are sent again with the same ce_id, none lost',
    async () => {
      const result = await run('relay-kill');
      expect(result.audit.resent).toBeGreaterThan(0);
      expect(result.audit.distinctEventIds).toBe(result.audit.outboxRows);
      expectInvariants(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'the Kafka broker killed and restarted: writes during the outage are answered 503 within the bound, the api stays small, writes succeed after it without a restart',
    async () => {
      const result = await run('broker-restart');
      expect(result.answers.unavailable503).toBeGreaterThan(0);
      expectInvariants(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'PostgreSQL crashed and restarted: answers stay bounded, nothing acknowledged is lost, projector and relay carry on',
    async () => {
      expectInvariants(await run('postgres-restart'));
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    "the read replica SIGKILLed and restarted under writes and reads: no 5xx but bounded 503s, no read with a write's token older than the write, the replica back in the rotation answering reads",
    async () => {
      const result = await run('replica-kill');
      expect(result.notes).toContainEqual(expect.stringMatching(/left the rotation .* back in the rotation .* answering reads again/));
      expect(result.notes).toContainEqual(expect.stringMatching(/stale 0; acknowledged writes without a token 0/));
      expectInvariants(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'the leader of a partition killed in a three-broker cluster (replication 3, min.insync.replicas 2): writes go on, nothing acknowledged is lost, every accepted change reaches timeline.events',
    async () => {
      const result = await run('cluster-broker-kill');
      expect(result.audit.distinctEventIds).toBe(result.audit.outboxRows);
      expectInvariants(result);
    },
    SCENARIO_TIMEOUT_MS,
  );

  test(
    'two apis and two projectors, one projector killed: its partitions move, nothing is lost or decided twice, versions stay consistent',
    async () => {
      const result = await run('group-projector-kill');
      expect(result.notes).toContainEqual(expect.stringMatching(/partitions moved to the other/));
      expectInvariants(result);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
