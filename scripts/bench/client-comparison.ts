/**
 * A figure, not a choice (kafkajs stays the client): `@confluentinc/kafka-javascript` (librdkafka under a
 * KafkaJS-compatible API) against kafkajs, each behind the write side of our `CommandLog`: the api's
 * `RecordAppender`, i.e. our group commit over an idempotent producer, acks from all in-sync replicas, one
 * produce call in flight. The same records (a RecordEvent command keyed by timeline) at the same
 * concurrencies, closed loop, outside HTTP. The consuming side (the projector) is not compared.
 *
 * The package is not a dependency of the project: its prebuilt binary comes from GitHub, which this machine
 * cannot reach, and building it needs Debian's -dev packages. `npm run bench:install-confluent` builds it
 * into a cache folder; without it the comparison reports why it did not run.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { GroupCommit, KafkaCommandLog, type OutgoingRecord, type RecordAppender } from '@timeline/command-log';
import { measureClosedLoop, type ClosedLoopResult } from './closed-loop';
import { EVENT_BODY, recordEventRecord } from './replay';

/** Where `npm run bench:install-confluent` puts the package (BENCH_CONFLUENT_PREFIX overrides). */
export const CONFLUENT_PREFIX = process.env.BENCH_CONFLUENT_PREFIX ?? path.join(os.homedir(), '.cache', 'timeline-bench', 'confluent-kafka-javascript');

export interface ClientComparisonSpec {
  brokers: string[];
  /** Two topics of their own, one per client, with `partitions` partitions each. */
  topicPrefix: string;
  partitions: number;
  timelines: number;
  concurrencies: number[];
  warmupS: number;
  durationS: number;
  lingerMs: number;
  maxBatch: number;
}

export interface ClientComparisonResult {
  kafkajs: ClosedLoopResult[];
  /** Null when the package is not installed, with the reason in `skipped`. */
  confluent: ClosedLoopResult[] | null;
  skipped: string | null;
  confluentVersion: string | null;
}

/** The part of the package's KafkaJS-compatible API this comparison uses. */
interface ConfluentKafkaJs {
  Kafka: new (config: Record<string, unknown>) => {
    producer(config: Record<string, unknown>): ConfluentProducer;
    admin(): { connect(): Promise<void>; disconnect(): Promise<void>; createTopics(options: Record<string, unknown>): Promise<boolean> };
  };
}
interface ConfluentProducer {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: { key: string; value: string; partition?: number; headers: Record<string, string> }[] }): Promise<unknown>;
}

export async function compareClients(spec: ClientComparisonSpec, onRow: (client: string, callers: number) => void): Promise<ClientComparisonResult> {
  const log = new KafkaCommandLog({ brokers: spec.brokers, clientId: 'bench-client-kafkajs' });
  try {
    const kafkajsTopic = `${spec.topicPrefix}-kafkajs`;
    await log.ensureTopics([{ topic: kafkajsTopic, partitions: spec.partitions, replicationFactor: 1, configEntries: {} }]);
    const kafkajs = await measureAppender(spec, await log.appender(kafkajsTopic, { lingerMs: spec.lingerMs, maxBatch: spec.maxBatch }), (callers) =>
      onRow('kafkajs', callers),
    );
    const loaded = loadConfluent();
    if ('skipped' in loaded) return { kafkajs, confluent: null, skipped: loaded.skipped, confluentVersion: null };
    const confluent = await measureAppender(spec, await confluentAppender(loaded.module, spec), (callers) => onRow('confluent', callers));
    return { kafkajs, confluent, skipped: null, confluentVersion: loaded.version };
  } finally {
    await log.close();
  }
}

async function measureAppender(spec: ClientComparisonSpec, appender: RecordAppender, onRow: (callers: number) => void): Promise<ClosedLoopResult[]> {
  const timelineIds = Array.from({ length: spec.timelines }, (_, index) => `bench-${index + 1}`);
  const rows: ClosedLoopResult[] = [];
  try {
    for (const callers of spec.concurrencies) {
      onRow(callers);
      rows.push(
        await measureClosedLoop({
          callers,
          warmupS: spec.warmupS,
          durationS: spec.durationS,
          operation: async (caller, sequence) => {
            await appender.append(recordEventRecord(timelineIds[(caller + sequence) % timelineIds.length], EVENT_BODY));
          },
        }),
      );
    }
    return rows;
  } finally {
    await appender.close();
  }
}

function loadConfluent(): { module: ConfluentKafkaJs; version: string } | { skipped: string } {
  const manifest = path.join(CONFLUENT_PREFIX, 'node_modules', '@confluentinc', 'kafka-javascript', 'package.json');
  if (!existsSync(manifest)) return { skipped: `not installed in ${CONFLUENT_PREFIX} (npm run bench:install-confluent builds it there)` };
  const load = createRequire(manifest);
  try {
    const { version } = load(manifest) as { version: string };
    const { KafkaJS } = load('@confluentinc/kafka-javascript') as { KafkaJS: ConfluentKafkaJs };
    return { module: KafkaJS, version };
  } catch (error) {
    return { skipped: `could not be loaded: ${(error as Error).message}` };
  }
}

/** Our group commit, as the api's appender has it, over the confluent producer: one send per batch. */
async function confluentAppender(confluent: ConfluentKafkaJs, spec: ClientComparisonSpec): Promise<RecordAppender> {
  const topic = `${spec.topicPrefix}-confluent`;
  const kafka = new confluent.Kafka({ kafkaJS: { brokers: spec.brokers, clientId: 'bench-client-confluent', logLevel: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: spec.partitions, replicationFactor: 1 }] }).finally(() => admin.disconnect());
  // Our group commit does the batching, as it does over kafkajs: librdkafka sends a batch as soon as it has it.
  const producer = kafka.producer({ 'linger.ms': 0, kafkaJS: { idempotent: true, acks: -1, allowAutoTopicCreation: false } });
  await producer.connect();
  const group = new GroupCommit<OutgoingRecord>((records) => producer.send({ topic, messages: records }).then(() => undefined), {
    lingerMs: spec.lingerMs,
    maxBatch: spec.maxBatch,
  });
  return {
    append: (record) => group.add(record),
    appendAll: (records) => group.addAll(records),
    close: async () => {
      await group.drain();
      await producer.disconnect();
    },
  };
}
