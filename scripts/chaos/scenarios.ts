/**
 * The chaos scenarios. Each deploys a fresh service (database, topics, processes), drives the write
 * load, injects its fault a number of times at random moments, waits after each for writes to be
 * answered 201/200 again, stops the load, audits, and lists the invariants it saw broken.
 */
import { AssignerProtocol } from 'kafkajs';
import { Client } from 'pg';
import { readMemory, type RunningReplica } from '@timeline/dev-stack';
import { runCredentials } from '../auth/run-credentials';
import { audit, type AuditResult } from './audit';
import { createTimelines, kafkaAdmin, waitFor, type Deployment, type DeploymentOptions, type Lab } from './lab';
import { ReadLoad } from './read-load';
import { seededRandom, type ChaosSettings, type ScenarioName } from './settings';
import { isSuccess, WriteLoad, type Attempt } from './write-load';

export interface Fault {
  injectedAt: number;
  /** When the fault was over (the server back, the broker restarted); the kill itself for a kill. */
  endedAt: number;
  /** Recovery is measured from here: the end of an outage, or the kill when writes should go on. */
  healedAt: number;
  recoveredAt: number | null;
  note?: string;
}

export interface ScenarioResult {
  name: ScenarioName;
  title: string;
  faults: Fault[];
  answers: { success: number; accepted202: number; unavailable503: number; other: Record<string, number> };
  /** The slowest answer of the run, and unanswered requests (client timeout). */
  maxAnswerMs: number;
  unanswered: number;
  notSent: number;
  audit: AuditResult;
  /** What a scenario measured beyond the common columns (RSS, partitions moved, rows caught unmarked). */
  notes: string[];
  violations: string[];
  seconds: number;
}

interface ScenarioContext {
  lab: Lab;
  settings: ChaosSettings;
  deployment: Deployment;
  load: WriteLoad;
  /** The reads beside the writes, in scenarios with `readLoad`. */
  reads: ReadLoad | null;
  random: () => number;
  notes: string[];
  violations: string[];
}

interface ScenarioDefinition {
  title: string;
  deploy: (lab: Lab) => Promise<{ options: Omit<DeploymentOptions, 'name'>; teardown?: () => Promise<void> }>;
  /** Reads beside the writes: token-carrying ones after each acknowledged write, and token-less ones. */
  readLoad?: boolean;
  /** Injects fault number `index` and ends it; returns when it ended. */
  inject: (context: ScenarioContext, index: number) => Promise<Omit<Fault, 'recoveredAt'>>;
  /** Checks of this scenario beyond the common invariants. */
  check?: (context: ScenarioContext, faults: Fault[]) => Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const singleBroker = (lab: Lab) => [lab.broker!.bootstrap];

export const SCENARIOS: Record<ScenarioName, ScenarioDefinition> = {
  'projector-kill': {
    title: 'projector SIGKILLed at a random moment, restarted',
    deploy: async (lab) => ({ options: { brokers: singleBroker(lab), apis: 1, projectors: 1, partitions: 3 } }),
    inject: async ({ deployment }) => {
      await deployment.killProjector(0);
      const injectedAt = Date.now();
      await deployment.restartProjector(0);
      return { injectedAt, endedAt: injectedAt, healedAt: injectedAt };
    },
  },

  'relay-kill': {
    title: 'projector SIGKILLed between the relay publishing and marking sent',
    deploy: async (lab) => ({ options: { brokers: singleBroker(lab), apis: 1, projectors: 1, partitions: 3 } }),
    inject: async ({ deployment }) => {
      const caught = await killBetweenPublishAndMark(deployment, 0, 30_000);
      const injectedAt = Date.now();
      await deployment.restartProjector(0);
      return { injectedAt, endedAt: injectedAt, healedAt: injectedAt, note: `${caught} rows published, not marked` };
    },
    check: ({ notes }, faults) => {
      notes.push(`rows published but not marked when killed: ${faults.map((fault) => fault.note?.split(' ')[0]).join(', ')}`);
    },
  },

  'broker-restart': {
    title: 'Kafka broker SIGKILLed, down for a while, restarted',
    deploy: async (lab) => ({ options: { brokers: singleBroker(lab), apis: 1, projectors: 1, partitions: 3 } }),
    inject: async ({ lab, settings, deployment, notes, violations }, index) => {
      const api = deployment.apis[0];
      const before = readMemory(api.pid)?.rssKb ?? 0;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, readMemory(api.pid)?.rssKb ?? 0)), 200);
      lab.broker!.kill();
      const injectedAt = Date.now();
      await sleep(settings.brokerOutageMs);
      clearInterval(sampler);
      await lab.broker!.restart();
      const growthMiB = (peak - before) / 1024;
      notes.push(`outage ${index + 1}: api RSS ${(before / 1024).toFixed(0)} -> peak ${(peak / 1024).toFixed(0)} MiB`);
      if (growthMiB > settings.apiRssGrowthMiB)
        violations.push(`outage ${index + 1}: api RSS grew ${growthMiB.toFixed(0)} MiB (bound ${settings.apiRssGrowthMiB})`);
      const endedAt = Date.now();
      return { injectedAt, endedAt, healedAt: endedAt };
    },
    check: ({ load, violations }, faults) => {
      for (const [index, fault] of faults.entries()) {
        const during = load.attemptsBetween(fault.injectedAt, fault.endedAt);
        if (!during.some((attempt) => attempt.status === 503))
          violations.push(`outage ${index + 1}: no write answered 503 while the broker was down (${summarize(during)})`);
      }
    },
  },

  'postgres-restart': {
    title: 'PostgreSQL stopped (immediate: a crash), down for a while, started',
    deploy: async (lab) => ({ options: { brokers: singleBroker(lab), apis: 1, projectors: 1, partitions: 3 } }),
    inject: async ({ lab, settings }) => {
      await lab.postgres!.stopServer(settings.postgresStopMode);
      const injectedAt = Date.now();
      await sleep(settings.postgresOutageMs);
      await lab.postgres!.startServer();
      const endedAt = Date.now();
      return { injectedAt, endedAt, healedAt: endedAt };
    },
  },

  'replica-kill': {
    title: 'the read replica SIGKILLed under writes and reads, down for a while, restarted: it catches up and rejoins',
    readLoad: true,
    deploy: async (lab) => {
      const replica = await lab.postgres!.startReplica();
      replicas.set(lab, { replica, outages: [] });
      return {
        options: {
          brokers: singleBroker(lab),
          apis: 1,
          projectors: 1,
          partitions: 3,
          readReplicas: [replica],
          env: { READ_REPLICA_CHECK_INTERVAL_MS: '500' },
        },
        teardown: async () => {
          replicas.delete(lab);
          await replica.stop();
        },
      };
    },
    inject: async ({ lab, settings, deployment, notes, violations }, index) => {
      const { replica, outages } = replicas.get(lab)!;
      const api = deployment.apis[0];
      await replica.kill();
      const injectedAt = Date.now();
      const left = await waitFor(async () => (await replicaMetrics(api.url, replica.name)).inRotation === 0, settings.replicaOutageMs);
      const leftAfterMs = Date.now() - injectedAt;
      await sleep(Math.max(0, injectedAt + settings.replicaOutageMs - Date.now()));
      await replica.restart();
      const endedAt = Date.now();
      // Back in the rotation once it has caught up through its slot, and answering reads again.
      const back = await waitFor(async () => (await replicaMetrics(api.url, replica.name)).inRotation === 1, settings.recoverBoundMs);
      const rejoinedAt = Date.now();
      const readsBefore = (await replicaMetrics(api.url, replica.name)).reads;
      const reading = back && (await waitFor(async () => (await replicaMetrics(api.url, replica.name)).reads > readsBefore, 10_000));
      outages.push({ from: injectedAt, to: Date.now() });
      notes.push(
        `kill ${index + 1}: ${replica.name} ${left ? `left the rotation in ${(leftAfterMs / 1000).toFixed(1)} s` : 'did NOT leave the rotation'}, ` +
          `restarted after ${((endedAt - injectedAt) / 1000).toFixed(1)} s, ` +
          (back ? `back in the rotation ${((rejoinedAt - endedAt) / 1000).toFixed(1)} s later` : 'NOT back in the rotation') +
          (back ? (reading ? ', answering reads again' : ', but answering no reads') : ''),
      );
      if (!left) violations.push(`kill ${index + 1}: ${replica.name} stayed in the rotation while down (${settings.replicaOutageMs} ms)`);
      if (!back) violations.push(`kill ${index + 1}: ${replica.name} not back in the rotation within ${settings.recoverBoundMs} ms of its restart`);
      else if (!reading) violations.push(`kill ${index + 1}: ${replica.name} back in the rotation but its timeline_reads_total did not grow in 10 s`);
      // Writes never touch the replica: they must go on through the kill.
      return { injectedAt, endedAt, healedAt: injectedAt };
    },
    check: ({ lab, settings, reads, notes, violations }) => {
      const { outages } = replicas.get(lab)!;
      const summary = reads!.summary();
      notes.push(
        `reads: ${summary.afterWrite} with a write's token, ${summary.plain} without; answers ${Object.entries(summary.statuses)
          .map(([status, n]) => `${status} x${n}`)
          .join(', ')}; slowest ${(summary.maxAnswerMs / 1000).toFixed(1)} s; stale ${summary.stale}; ` +
          `acknowledged writes without a token ${summary.missingTokens}`,
      );
      for (const read of reads!.reads.filter((read) => read.stale).slice(0, 3)) violations.push(`stale read: ${read.note}`);
      if (summary.stale > 0) violations.push(`${summary.stale} reads carrying a write's token showed a timeline older than that write`);
      if (summary.missingTokens > 0) violations.push(`${summary.missingTokens} acknowledged writes answered without a Consistency-Token`);
      if (summary.afterWrite === 0 || summary.plain === 0) violations.push('the read load made no reads of one kind');
      // As for writes, a 503 is an answer (shed load, the database unreachable), bounded in time like every answer;
      // any other failure is a finding. How many came while the replica was out tells whether it caused them.
      const during = (at: number) => outages.some((outage) => at >= outage.from && at <= outage.to);
      const unavailable = reads!.reads.filter((read) => read.status === 503);
      const problems: Record<string, number> = {};
      for (const read of unavailable) problems[read.problem ?? 'no problem type'] = (problems[read.problem ?? 'no problem type'] ?? 0) + 1;
      notes.push(
        `reads answered 503: ${unavailable.length} (${Object.entries(problems)
          .map(([type, n]) => `${type} x${n}`)
          .join(', ')}), of them ${unavailable.filter((read) => during(read.startedAt)).length} while ${outages.length > 1 ? 'a' : 'the'} replica was out`,
      );
      const failed = reads!.reads.filter((read) => read.status !== 200 && read.status !== 503);
      if (failed.length > 0)
        violations.push(
          `${failed.length} reads answered other than 200 or 503: ${failed
            .slice(0, 3)
            .map((read) => `${read.status} ${read.note ?? ''}`.trim())
            .join('; ')}`,
        );
      if (summary.maxAnswerMs > settings.answerBoundMs) violations.push(`slowest read ${summary.maxAnswerMs} ms (bound ${settings.answerBoundMs} ms)`);
    },
  },

  'cluster-broker-kill': {
    title: '3-broker KRaft cluster (RF 3, min.insync.replicas=2): one broker SIGKILLed under load',
    deploy: async (lab) => {
      const cluster = await lab.startCluster();
      clusters.set(lab, cluster);
      return {
        options: { brokers: cluster.brokers, apis: 1, projectors: 1, partitions: 3, replicationFactor: 3 },
        teardown: async () => {
          clusters.delete(lab);
          await cluster.stop();
        },
      };
    },
    inject: async ({ lab, settings, deployment, notes }, index) => {
      const cluster = clusters.get(lab)!;
      // The leader of partition 0 of the command log: its clients must fail over.
      const admin = await kafkaAdmin(cluster.brokers);
      const metadata = await admin.fetchTopicMetadata({ topics: [deployment.commandsTopic] });
      const leaderId = metadata.topics[0].partitions.find((partition) => partition.partitionId === 0)!.leader;
      const node = cluster.nodes[leaderId - 1] ?? cluster.nodes[index % cluster.nodes.length];
      node.kill();
      const injectedAt = Date.now();
      await sleep(settings.clusterOutageMs);
      const during = await admin.fetchTopicMetadata({ topics: [deployment.commandsTopic] });
      notes.push(
        `kill ${index + 1}: broker ${leaderId} (leader of partition 0); ISR while down: ${during.topics[0].partitions.map((p) => p.isr.length).join('/')}`,
      );
      const endedAt = Date.now();
      await node.restart();
      // The next kill only once every replica is back in sync.
      await waitFor(async () => {
        const after = await admin.fetchTopicMetadata({ topics: [deployment.commandsTopic] });
        return after.topics[0].partitions.every((partition) => partition.isr.length === 3);
      }, 60_000);
      await admin.disconnect();
      // Writes must go on while the broker is down: recovery counts from the kill.
      return { injectedAt, endedAt, healedAt: injectedAt };
    },
    check: async ({ load, deployment, notes, violations }, faults) => {
      for (const [index, fault] of faults.entries()) {
        const during = load.attemptsBetween(fault.injectedAt, fault.endedAt);
        if (!during.some((attempt) => isSuccess(attempt.status))) violations.push(`kill ${index + 1}: no write acknowledged while the broker was down`);
      }
      const admin = await kafkaAdmin(deployment.options.brokers);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: deployment.commandsTopic, configNames: ['min.insync.replicas'] }],
      });
      await admin.disconnect();
      notes.push(`${deployment.commandsTopic}: min.insync.replicas=${configs.resources[0].configEntries[0]?.configValue}`);
    },
  },

  'group-projector-kill': {
    title: '2 apis + 2 projectors in one group: one projector SIGKILLed, its partitions move',
    deploy: async (lab) => ({ options: { brokers: singleBroker(lab), apis: 2, projectors: 2, partitions: 6 } }),
    inject: async ({ settings, deployment, notes, violations }, index) => {
      const victim = index % 2;
      await deployment.killProjector(victim);
      const injectedAt = Date.now();
      const survivor = deployment.clientIdOf(deployment.projectors[1 - victim]);
      const moved = await waitFor(() => ownsEveryPartition(deployment, survivor), settings.recoverBoundMs);
      const movedAfterMs = Date.now() - injectedAt;
      notes.push(
        `kill ${index + 1}: projector ${victim}'s partitions ${moved ? `moved to the other in ${(movedAfterMs / 1000).toFixed(1)} s` : 'did NOT move'}`,
      );
      if (!moved) violations.push(`kill ${index + 1}: the surviving projector did not own every partition within ${settings.recoverBoundMs} ms`);
      // The killed one back (it rejoins the group), so that the next repetition can kill the other.
      await deployment.restartProjector(victim);
      return { injectedAt, endedAt: injectedAt, healedAt: injectedAt };
    },
  },
};

const clusters = new Map<Lab, Awaited<ReturnType<Lab['startCluster']>>>();
/** The replica of the replica-kill scenario, and when each of its outages began and ended (rejoined). */
const replicas = new Map<Lab, { replica: RunningReplica; outages: { from: number; to: number }[] }>();

/** The api's view of one replica: in the rotation (0/1, null when not reported) and the reads it answered. */
async function replicaMetrics(apiUrl: string, replica: string): Promise<{ inRotation: number | null; reads: number }> {
  const response = await fetch(`${apiUrl}/metrics`, { headers: runCredentials.authorization, signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  const sample = (metric: string, label: string) => {
    const match = new RegExp(`^${metric}\\{[^}]*${label}="${replica}"[^}]*\\} (\\S+)$`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  };
  return { inRotation: sample('timeline_read_replica_in_rotation', 'replica'), reads: sample('timeline_reads_total', 'server') ?? 0 };
}

export async function runScenario(lab: Lab, name: ScenarioName, settings: ChaosSettings): Promise<ScenarioResult> {
  const definition = SCENARIOS[name];
  const startedAt = Date.now();
  const random = seededRandom(settings.seed + SCENARIO_SEED_OFFSET[name]);
  lab.log(`chaos: ${name}: ${definition.title}; ${settings.repetitions[name]} faults`);
  const { options, teardown } = await definition.deploy(lab);
  let deployment: Deployment | null = null;
  let reads: ReadLoad | null = null;
  try {
    deployment = await lab.deploy({ name, ...options });
    const timelineIds = Array.from({ length: settings.timelines }, (_, index) => `chaos-${index + 1}`);
    await createTimelines(deployment.apiUrls[0], timelineIds);
    reads = definition.readLoad
      ? new ReadLoad({
          apiUrls: deployment.apiUrls,
          timelineIds,
          ratePerSecond: settings.readRatePerSecond,
          requestTimeoutMs: settings.requestTimeoutMs,
        }).start()
      : null;
    const load = new WriteLoad({
      apiUrls: deployment.apiUrls,
      timelineIds,
      ratePerSecond: settings.ratePerSecond,
      reviseRatio: settings.reviseRatio,
      maxInFlight: settings.maxInFlight,
      retries: settings.retries,
      requestTimeoutMs: settings.requestTimeoutMs,
      random,
      onAcknowledged: reads ? (write, token) => reads?.afterWrite(write, token) : undefined,
    }).start();
    const context: ScenarioContext = { lab, settings, deployment, load, reads, random, notes: [], violations: [] };
    const faults: Fault[] = [];
    await sleep(settings.warmupMs);
    for (let index = 0; index < settings.repetitions[name]; index++) {
      // A random moment: somewhere in the next faultGapMs.
      await sleep(random() * settings.faultGapMs);
      const fault = await definition.inject(context, index);
      const recoveredAt = await load.waitRecovered(fault.healedAt, settings.recoverStreak, settings.recoverBoundMs);
      faults.push({ ...fault, recoveredAt });
      lab.log(
        `chaos: ${name}: fault ${index + 1}: ${recoveredAt === null ? 'NOT recovered' : `recovered in ${((recoveredAt - fault.healedAt) / 1000).toFixed(1)} s`}${fault.note ? ` (${fault.note})` : ''}`,
      );
      if (recoveredAt === null)
        context.violations.push(`fault ${index + 1}: writes not answered 201/200 again within ${settings.recoverBoundMs} ms of its end`);
    }
    await sleep(settings.cooldownMs);
    await load.stop();
    await reads?.stop();
    await definition.check?.(context, faults);
    context.violations.push(...deployment.unexpectedExits());
    lab.log(`chaos: ${name}: load stopped (${load.writes.length} writes); auditing`);
    const audited = await audit(deployment, load.writes, settings.settleTimeoutMs);
    const result: ScenarioResult = {
      name,
      title: definition.title,
      faults,
      ...answerCounts(load.attempts),
      notSent: load.skipped,
      audit: audited,
      notes: context.notes,
      violations: [...context.violations, ...invariantViolations(audited, load.attempts, settings)],
      seconds: Math.round((Date.now() - startedAt) / 1000),
    };
    if (result.violations.length > 0) lab.keepLogs = true;
    return result;
  } finally {
    await reads?.stop();
    await deployment?.stop();
    await teardown?.();
  }
}

const SCENARIO_SEED_OFFSET: Record<ScenarioName, number> = {
  'projector-kill': 1,
  'relay-kill': 2,
  'broker-restart': 3,
  'postgres-restart': 4,
  'cluster-broker-kill': 5,
  'group-projector-kill': 6,
  'replica-kill': 7,
};

function answerCounts(attempts: Attempt[]) {
  const other: Record<string, number> = {};
  let success = 0;
  let accepted202 = 0;
  let unavailable503 = 0;
  let maxAnswerMs = 0;
  let unanswered = 0;
  for (const attempt of attempts) {
    if (attempt.finishedAt !== null) maxAnswerMs = Math.max(maxAnswerMs, attempt.finishedAt - attempt.startedAt);
    if (isSuccess(attempt.status)) success++;
    else if (attempt.status === 202) accepted202++;
    else if (attempt.status === 503) unavailable503++;
    else {
      other[String(attempt.status)] = (other[String(attempt.status)] ?? 0) + 1;
      if (attempt.status === 'timeout') unanswered++;
    }
  }
  return { answers: { success, accepted202, unavailable503, other }, maxAnswerMs, unanswered };
}

/** The invariants every scenario holds the service to. */
function invariantViolations(result: AuditResult, attempts: Attempt[], settings: ChaosSettings): string[] {
  const violations: string[] = [];
  if (!result.settled) violations.push(`did not settle: ${result.settleNote}`);
  if (result.lostAcknowledged > 0) violations.push(`${result.lostAcknowledged} acknowledged writes (201/200) lost`);
  if (result.lostPending > 0) violations.push(`${result.lostPending} writes answered 202 never decided`);
  for (const example of result.lostExamples) violations.push(`lost: ${example}`);
  if (result.duplicated > 0) violations.push(`duplicates: ${result.duplicateDetails.slice(0, 3).join('; ')}`);
  if (result.versionMismatches > 0)
    violations.push(
      `${result.versionMismatches} version mismatches: ${result.duplicateDetails
        .filter((d) => d.includes('version'))
        .slice(0, 3)
        .join('; ')}`,
    );
  if (result.unpublished > 0) violations.push(`${result.unpublished} accepted changes missing from timeline.events: ${result.unpublishedExamples.join('; ')}`);
  if (result.replayEqual !== true) violations.push(`read models differ from a clean replay: ${result.replayNote || 'no comparison'}`);
  const { maxAnswerMs, unanswered, answers } = answerCounts(attempts);
  if (unanswered > 0) violations.push(`${unanswered} requests unanswered after ${settings.requestTimeoutMs} ms`);
  if (maxAnswerMs > settings.answerBoundMs) violations.push(`slowest answer ${maxAnswerMs} ms (bound ${settings.answerBoundMs} ms)`);
  const errors = Object.entries(answers.other).filter(([status]) => status !== 'timeout');
  if (errors.length > 0) violations.push(`answers other than 201/200/202/503: ${errors.map(([status, n]) => `${status} x${n}`).join(', ')}`);
  return violations;
}

function summarize(attempts: Attempt[]): string {
  const counts: Record<string, number> = {};
  for (const attempt of attempts) counts[String(attempt.status)] = (counts[String(attempt.status)] ?? 0) + 1;
  return (
    Object.entries(counts)
      .map(([status, n]) => `${status} x${n}`)
      .join(', ') || 'no writes'
  );
}

/** True when the group has one member, `clientId`, and it owns every partition of the command log. */
async function ownsEveryPartition(deployment: Deployment, clientId: string): Promise<boolean> {
  const admin = await kafkaAdmin(deployment.options.brokers);
  try {
    const { groups } = await admin.describeGroups([deployment.env.KAFKA_CONSUMER_GROUP]);
    const members = groups[0]?.members ?? [];
    if (members.length !== 1 || members[0].clientId !== clientId || groups[0].state !== 'Stable') return false;
    const assignment = AssignerProtocol.MemberAssignment.decode(members[0].memberAssignment);
    return (assignment?.assignment[deployment.commandsTopic] ?? []).length === deployment.options.partitions;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Kills the projector of slot `index` exactly between the relay's produce to timeline.events and its
 * `update outbox set sent_at`: this connection holds a share lock on the oldest unsent outbox rows, so
 * the relay publishes them and then waits for the lock in its update; once pg_stat_activity shows
 * that wait, the projector is SIGKILLed, its orphaned backend terminated (else the update would still
 * commit once the lock goes) and the lock released. The next relay must send those rows again, with
 * the same ce_id. Returns how many rows were caught published and unmarked.
 */
async function killBetweenPublishAndMark(deployment: Deployment, index: number, timeoutMs: number): Promise<number> {
  const projector = deployment.projectors[index];
  const applicationName = deployment.clientIdOf(projector);
  const client = new Client({
    connectionString: deployment.databaseUrl,
    options: `-c search_path=${deployment.env.DATABASE_SCHEMA}`,
    application_name: 'chaos-relay-trap',
  });
  client.on('error', () => undefined);
  await client.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      await client.query('begin');
      const locked = await client.query('select position from outbox where sent_at is null order by transaction_id, position limit 50 for share');
      if (locked.rowCount === 0) {
        await client.query('rollback');
        await sleep(20);
        continue;
      }
      let blocked: number | null = null;
      for (const waitUntil = Date.now() + 3_000; blocked === null && Date.now() < waitUntil;) {
        const { rows } = await deployment.pool.query<{ pid: number }>(
          `select pid from pg_stat_activity
           where application_name = $1 and wait_event_type = 'Lock' and query ilike 'update outbox set sent_at%'`,
          [applicationName],
        );
        if (rows.length > 0) blocked = rows[0].pid;
        else await sleep(10);
      }
      if (blocked === null) {
        await client.query('rollback');
        continue;
      }
      await deployment.killProjector(index);
      await deployment.pool.query('select pg_terminate_backend($1)', [blocked]);
      await client.query('rollback');
      return locked.rowCount ?? 0;
    }
    throw new Error(`the relay of ${projector.name} was not caught between publish and mark within ${timeoutMs} ms`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
