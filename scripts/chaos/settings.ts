/**
 * Every knob of the chaos harness, from the environment. `CHAOS_SCALE=small` is the short version
 * (the e2e spec runs it); `full` (the default of `npm run chaos`) is the table in docs/faults.md.
 * Bounds are what the verdict holds the service to: "within a bound you configure".
 */
export type Scale = 'small' | 'full';

export interface ChaosSettings {
  scale: Scale;
  /** Seed of the random moments; printed, so a run can be repeated. */
  seed: number;
  /** Scenario names to run (CHAOS_SCENARIOS=projector-kill,relay-kill); all when empty. */
  only: string[];
  /** Repetitions of each fault, by scenario. */
  repetitions: Record<ScenarioName, number>;
  /** Offered write load, writes per second (open model), over this many timelines. */
  ratePerSecond: number;
  timelines: number;
  /** Share of writes that revise an acknowledged event (answered 200) rather than record one (201). */
  reviseRatio: number;
  /** Requests in flight at most; a tick that finds them all busy is counted as not sent. */
  maxInFlight: number;
  /** A write answered 503 or not at all is retried with its Idempotency-Key this many times. */
  retries: number;
  /** Client-side timeout of one request: past it the request counts as unanswered. */
  requestTimeoutMs: number;
  /** The service's DECISION_TIMEOUT_MS: how long a write waits for its decision before 202. */
  decisionTimeoutMs: number;
  /** Every answer, also during a fault, must come within this (invariant 8: bounded answers). */
  answerBoundMs: number;
  /** After each fault ends, writes must be answered 201/200 again within this. */
  recoverBoundMs: number;
  /** Successive successful answers that count as "recovered". */
  recoverStreak: number;
  /** After the load, how long everything acknowledged has to be decided, projected and relayed. */
  settleTimeoutMs: number;
  /** Random pause before each fault, up to this. */
  faultGapMs: number;
  /** How long a stopped broker / PostgreSQL / cluster node stays down. */
  brokerOutageMs: number;
  postgresOutageMs: number;
  clusterOutageMs: number;
  /** How long a SIGKILLed read replica stays down (replica-kill). */
  replicaOutageMs: number;
  /** Token-less reads per second beside the writes, in the scenarios with read replicas. */
  readRatePerSecond: number;
  /** `immediate` (a crash, recovery on start) or `fast` (clean shutdown). */
  postgresStopMode: 'fast' | 'immediate';
  /** The api's RSS may grow at most this much during a broker outage. */
  apiRssGrowthMiB: number;
  /** Load before the first fault and after the last one. */
  warmupMs: number;
  cooldownMs: number;
  /** How the service processes start: `dist` after a build (npm run chaos), `source` in the tests. */
  entry: 'dist' | 'source';
  kafkaHeap: string;
}

export const SCENARIO_NAMES = [
  'projector-kill',
  'relay-kill',
  'broker-restart',
  'postgres-restart',
  'replica-kill',
  'cluster-broker-kill',
  'group-projector-kill',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const FULL_REPETITIONS: Record<ScenarioName, number> = {
  'projector-kill': 20,
  'relay-kill': 10,
  'broker-restart': 5,
  'postgres-restart': 5,
  'replica-kill': 5,
  'cluster-broker-kill': 3,
  'group-projector-kill': 2,
};
const SMALL_REPETITIONS: Record<ScenarioName, number> = {
  'projector-kill': 1,
  'relay-kill': 1,
  'broker-restart': 1,
  'postgres-restart': 1,
  'replica-kill': 1,
  'cluster-broker-kill': 1,
  'group-projector-kill': 1,
};

export function chaosSettings(env: Record<string, string | undefined> = process.env, defaults: Partial<ChaosSettings> = {}): ChaosSettings {
  const scale: Scale = env.CHAOS_SCALE === 'small' ? 'small' : env.CHAOS_SCALE === 'full' ? 'full' : (defaults.scale ?? 'full');
  const small = scale === 'small';
  const number = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not ${JSON.stringify(raw)}`);
    return value;
  };
  const base = small ? SMALL_REPETITIONS : FULL_REPETITIONS;
  const repetitions = Object.fromEntries(
    SCENARIO_NAMES.map((name) => [name, number(`CHAOS_REPS_${name.toUpperCase().replaceAll('-', '_')}`, base[name])]),
  ) as Record<ScenarioName, number>;
  const decisionTimeoutMs = number('CHAOS_DECISION_TIMEOUT_MS', 2_000);
  const only = (env.CHAOS_SCENARIOS ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of only)
    if (!(SCENARIO_NAMES as readonly string[]).includes(name)) throw new Error(`CHAOS_SCENARIOS: unknown scenario ${name} (${SCENARIO_NAMES.join(', ')})`);
  return {
    scale,
    seed: number('CHAOS_SEED', defaults.seed ?? Date.now() % 1_000_000),
    only,
    repetitions,
    ratePerSecond: number('CHAOS_RATE', small ? 20 : 30),
    timelines: number('CHAOS_TIMELINES', 12),
    reviseRatio: number('CHAOS_REVISE_RATIO', 0.2),
    maxInFlight: number('CHAOS_MAX_IN_FLIGHT', 200),
    retries: number('CHAOS_RETRIES', 3),
    requestTimeoutMs: number('CHAOS_REQUEST_TIMEOUT_MS', 60_000),
    decisionTimeoutMs,
    answerBoundMs: number('CHAOS_ANSWER_BOUND_MS', decisionTimeoutMs + 8_000),
    recoverBoundMs: number('CHAOS_RECOVER_BOUND_MS', small ? 30_000 : 45_000),
    recoverStreak: number('CHAOS_RECOVER_STREAK', 10),
    settleTimeoutMs: number('CHAOS_SETTLE_TIMEOUT_MS', small ? 45_000 : 120_000),
    faultGapMs: number('CHAOS_FAULT_GAP_MS', small ? 1_000 : 4_000),
    brokerOutageMs: number('CHAOS_BROKER_OUTAGE_MS', small ? 5_000 : 10_000),
    postgresOutageMs: number('CHAOS_POSTGRES_OUTAGE_MS', small ? 4_000 : 8_000),
    clusterOutageMs: number('CHAOS_CLUSTER_OUTAGE_MS', small ? 6_000 : 15_000),
    replicaOutageMs: number('CHAOS_REPLICA_OUTAGE_MS', small ? 4_000 : 8_000),
    readRatePerSecond: number('CHAOS_READ_RATE', small ? 20 : 30),
    postgresStopMode: env.CHAOS_POSTGRES_STOP_MODE === 'fast' ? 'fast' : 'immediate',
    apiRssGrowthMiB: number('CHAOS_API_RSS_GROWTH_MIB', 150),
    warmupMs: number('CHAOS_WARMUP_MS', small ? 1_500 : 3_000),
    cooldownMs: number('CHAOS_COOLDOWN_MS', small ? 1_500 : 3_000),
    entry: env.CHAOS_ENTRY === 'source' ? 'source' : env.CHAOS_ENTRY === 'dist' ? 'dist' : (defaults.entry ?? 'dist'),
    kafkaHeap: env.CHAOS_KAFKA_HEAP ?? '512m',
  };
}

/** mulberry32: a small seeded generator, so that "random moments" can be replayed with CHAOS_SEED. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
