import type { Appended, GroupCommitOptions } from './group-commit';

/**
 * Our narrow view of the Kafka log. Only the kafkajs adapter beside this file
 * knows the client library; the rest of the service sees these types.
 */

export interface OutgoingRecord {
  key: string;
  /** The partition to append to; else the key's partition (murmur2, as Kafka's default partitioner). */
  partition?: number;
  value: string;
  headers: Record<string, string>;
}

export interface LogRecord {
  partition: number;
  offset: number;
  /** Broker append time in milliseconds (the topic uses LogAppendTime). */
  timestamp: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string | undefined>;
}

export interface PartitionBatch {
  topic: string;
  partition: number;
  records: LogRecord[];
  /** The offset after the partition's last record when the batch was fetched. */
  highWatermark: number;
}

export interface BatchControl {
  /** False once the consumer is stopping or the partition was taken away: stop retrying. */
  isActive(): boolean;
  /** Re-reads the partition from `offset`; the current batch must be dropped. */
  seek(offset: number): void;
  heartbeat(): Promise<void>;
}

export type PartitionBatchHandler = (batch: PartitionBatch, control: BatchControl) => Promise<void>;

export interface TopicSpec {
  topic: string;
  partitions: number;
  replicationFactor: number;
  configEntries: Record<string, string>;
}

export interface Subscription {
  stop(): Promise<void>;
}

export interface SubscribeOptions {
  topic: string;
  groupId: string;
  /** A member silent this long loses its partitions (after a crash, the wait before another takes over). */
  sessionTimeoutMs: number;
  /** Where each newly assigned partition starts: the offsets stored beside the read models. */
  startOffsets: (partitions: number[]) => Promise<Map<number, number>>;
  /** When `startOffsets` failed: the partitions start where Kafka says, and each batch finds its stored offset. */
  onJoinError?: (error: Error) => void;
  handler: PartitionBatchHandler;
  /** When `handler` threw: its batch is read again after a pause. */
  onHandlerError?: (partition: number, error: unknown) => void;
}

/** What a producer is doing, for metrics: connected, and records waiting or in flight. */
export interface ProducerState {
  topic: string;
  connected: boolean;
  queued: number;
  inFlight: number;
}

/** Appends records, several per produce call when they arrive together. */
export interface RecordAppender {
  append(record: OutgoingRecord): Promise<Appended>;
  /** Records of one key appended together: all refused, or all in one produce call (see GroupCommit.addAll). */
  appendAll(records: OutgoingRecord[]): Promise<Appended>;
  close(): Promise<void>;
}

/** Abstract so that it can be the injection token; KafkaCommandLog is the implementation. */
export abstract class CommandLog {
  abstract ensureTopics(specs: TopicSpec[]): Promise<void>;
  /** True when the cluster answers a metadata request. */
  abstract isReachable(): Promise<boolean>;
  /** The offset after the last record of each partition. */
  abstract endOffsets(topic: string): Promise<Map<number, number>>;
  /** How many partitions the topic has. */
  abstract partitionCount(topic: string): Promise<number>;
  abstract appender(topic: string, options: GroupCommitOptions): Promise<RecordAppender>;
  abstract subscribe(options: SubscribeOptions): Promise<Subscription>;
  abstract close(): Promise<void>;
  /** The state of every appender this log has opened and not closed. */
  producerStates(): ProducerState[] {
    return [];
  }
}

/** Kept forever, never compacted: the log is the system of record, and subscribers may start from the first record. */
const RETAINED_FOREVER = { 'retention.ms': '-1', 'retention.bytes': '-1', 'cleanup.policy': 'delete' };

/**
 * The largest record batch timeline.commands takes: one command of the largest
 * body the api accepts (HTTP_BODY_LIMIT_BYTES, at most 2 MiB) with its envelope,
 * or a group-commit batch (PRODUCER_MAX_BATCH_BYTES, at most 4 MiB).
 */
export const COMMANDS_MAX_MESSAGE_BYTES = 5 * 1_048_576;

/** Settings of timeline.commands; known time is the broker's append time. */
export function commandsTopicSpec(topic: string, partitions: number, replicationFactor: number): TopicSpec {
  return {
    topic,
    partitions,
    replicationFactor,
    configEntries: { ...RETAINED_FOREVER, 'message.timestamp.type': 'LogAppendTime', 'max.message.bytes': String(COMMANDS_MAX_MESSAGE_BYTES) },
  };
}

/** Settings whose value may be larger than the spec's; every other must be as specified. */
const AT_LEAST = new Set(['max.message.bytes']);

/**
 * What is wrong with an existing topic, compared with its spec: a setting that
 * would lose records (retention, compaction), change known time, or refuse
 * records the service writes, and fewer replicas than configured. Empty when
 * the topic is fit to use.
 */
export function topicMismatches(spec: TopicSpec, actual: { configs: Record<string, string>; replicas: number }): string[] {
  const problems = Object.entries(spec.configEntries).flatMap(([name, wanted]) => {
    const value = actual.configs[name];
    const fits = AT_LEAST.has(name) ? Number(value) >= Number(wanted) : value === wanted;
    return fits ? [] : [`${name} is ${value ?? 'unset'}, must be ${AT_LEAST.has(name) ? 'at least ' : ''}${wanted}`];
  });
  if (actual.replicas < spec.replicationFactor) problems.push(`replication factor is ${actual.replicas}, must be at least ${spec.replicationFactor}`);
  const minInsync = Number(actual.configs['min.insync.replicas'] ?? 1);
  if (spec.replicationFactor >= 3 && minInsync < 2)
    problems.push(`min.insync.replicas is ${minInsync}, must be at least 2 with ${spec.replicationFactor} replicas`);
  return problems;
}

/** Thrown at start when an existing topic's settings could lose data: the process refuses to run on it. */
export class TopicMisconfigured extends Error {
  constructor(readonly problems: Record<string, string[]>) {
    super(
      `Kafka topics are set up in a way that can lose or refuse records; fix them (kafka-configs.sh --alter --entity-type topics ` +
        `--entity-name <topic> --add-config name=value) and start again:\n` +
        Object.entries(problems)
          .map(([topic, list]) => list.map((problem) => `  - ${topic}: ${problem}`).join('\n'))
          .join('\n'),
    );
  }
}

/** Settings of timeline.events. */
export function eventsTopicSpec(topic: string, partitions: number, replicationFactor: number): TopicSpec {
  return {
    topic,
    partitions,
    replicationFactor,
    // A revision carries the new state, the changed fields and their previous values:
    // up to about three times a command, whose request body is capped at 1 MiB.
    configEntries: { ...RETAINED_FOREVER, 'max.message.bytes': String(EVENTS_MAX_MESSAGE_BYTES) },
  };
}

/** The largest record timeline.events takes; also the bound on one produce call of the relay. */
export const EVENTS_MAX_MESSAGE_BYTES = 8 * 1_048_576;
