import type { KafkaSecurity } from '@timeline/config';
import {
  ConfigResourceTypes,
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type IHeaders,
  type PartitionMetadata,
  type Producer,
  type RecordMetadata,
} from 'kafkajs';
import {
  CommandLog,
  type LogRecord,
  type OutgoingRecord,
  type ProducerState,
  type RecordAppender,
  type SubscribeOptions,
  type Subscription,
  topicMismatches,
  TopicMisconfigured,
  type TopicSpec,
} from './command-log';
import { GroupCommit, type GroupCommitOptions } from './group-commit';
import { PartitionWorkers } from './partition-workers';

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  /** SASL and TLS, as configured (KAFKA_SASL_*, KAFKA_SSL*); none for a local broker. */
  security?: KafkaSecurity;
  /** Called with kafkajs's own log lines at warn and above. */
  log?: (level: 'error' | 'warn', message: string, extra: Record<string, unknown>) => void;
}

/** The kafkajs implementation of our CommandLog. */
export class KafkaCommandLog extends CommandLog {
  private readonly kafka: Kafka;
  private admin: Admin | null = null;
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly producers = new Set<() => ProducerState>();

  constructor(private readonly settings: KafkaSettings) {
    super();
    this.kafka = new Kafka({
      clientId: settings.clientId,
      brokers: settings.brokers,
      ...settings.security,
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => {
        const { message, ...extra } = entry.log;
        // We bound the producer's retries on purpose: a write must fail (503) rather than hang.
        // Duplicates that a retry past the bound could cause are dropped by command id.
        if (message.startsWith('Limiting retries for the idempotent producer')) return;
        // kafkajs logs every error response at error level, also the retriable ones it retries itself.
        const retriedByKafkajs = entry.namespace === 'Connection' && extra.error !== undefined;
        const level = entry.level === logLevel.ERROR && !retriedByKafkajs ? 'error' : 'warn';
        settings.log?.(level, `kafkajs ${entry.namespace}: ${message}`, extra);
      },
    });
  }

  /** Creates the topics that are missing; checks the settings of those that exist (TopicMisconfigured). */
  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.topic));
    await this.checkExistingTopics(specs.filter((spec) => existing.has(spec.topic)));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor,
        configEntries: Object.entries(spec.configEntries).map(([name, value]) => ({ name, value })),
      })),
    });
  }

  private async checkExistingTopics(specs: TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const admin = await this.connectedAdmin();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: specs.map((spec) => ({ type: ConfigResourceTypes.TOPIC, name: spec.topic })),
    });
    const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
    const problems: Record<string, string[]> = {};
    for (const spec of specs) {
      const entries = resources.find((resource) => resource.resourceName === spec.topic)?.configEntries ?? [];
      const partitions = topics.find((topic) => topic.name === spec.topic)?.partitions ?? [];
      const found = topicMismatches(spec, {
        configs: Object.fromEntries(entries.map((entry) => [entry.configName, entry.configValue])),
        replicas: Math.min(...partitions.map((partition) => partition.replicas.length)),
      });
      if (found.length) problems[spec.topic] = found;
    }
    if (Object.keys(problems).length) throw new TopicMisconfigured(problems);
  }

  async isReachable(): Promise<boolean> {
    try {
      const admin = await this.connectedAdmin();
      const cluster = await withTimeout(admin.describeCluster(), 3_000);
      return cluster.brokers.length > 0;
    } catch {
      return false;
    }
  }

  async endOffsets(topic: string): Promise<Map<number, number>> {
    const admin = await this.connectedAdmin();
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, Number(entry.high)]));
  }

  async appender(topic: string, options: GroupCommitOptions): Promise<RecordAppender> {
    let connected = false;
    const newProducer = (): Producer => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      producer.on(producer.events.CONNECT, () => (connected = true));
      producer.on(producer.events.DISCONNECT, () => (connected = false));
      return producer;
    };
    let producer = newProducer();
    await producer.connect();
    // Fixed for the appender's life: adding partitions moves keys, which the topic check does not allow anyway.
    const partitionCount = await this.partitionCount(topic);
    const group = new GroupCommit<OutgoingRecord>(
      async (records) => {
        try {
          if (!connected) await producer.connect();
          // One send: kafkajs makes one request per leader, all of that leader's partitions in it. kafkajs 2.2.4
          // retries a send that spans several leaders by re-sending only to the brokers that have not answered
          // yet: when a failed leader's partition moves to a broker that already answered for another partition,
          // that partition's records are never sent, and the send resolves all the same (tulios/kafkajs#1798).
          // Such a send answers for fewer partitions than it carried: it fails, and so do its appends (503).
          const partitions = byPartition(records, partitionCount);
          const acknowledged = await producer.send({
            topic,
            acks: -1,
            messages: [...partitions].flatMap(([partition, messages]) => messages.map((record) => ({ ...record, partition }))),
          });
          const missing = unacknowledgedPartitions([...partitions.keys()], topic, acknowledged);
          if (missing.length > 0) {
            this.settings.log?.('warn', 'kafkajs send resolved without some partitions (tulios/kafkajs#1798)', { topic, missing });
            throw new Error(`the log did not acknowledge partitions ${missing.join(', ')} of ${topic}`);
          }
        } catch (error) {
          // kafkajs's idempotent producer keeps its sequence numbers after a failed send: the broker could then
          // drop the next batch as a duplicate or refuse every later one. A new producer gets a new producer id.
          const failed = producer;
          producer = newProducer();
          connected = false;
          await failed.disconnect().catch(() => undefined);
          throw error;
        }
      },
      options,
      recordBytes,
    );
    const state = (): ProducerState => ({ topic, connected, ...group.state });
    this.producers.add(state);
    const close = async () => {
      this.producers.delete(state);
      await group.drain();
      await producer.disconnect();
    };
    this.closers.push(close);
    return { append: (record) => group.add(record), appendAll: (records) => group.addAll(records), close };
  }

  async subscribe({ topic, groupId, sessionTimeoutMs, startOffsets, handler, onJoinError, onHandlerError }: SubscribeOptions): Promise<Subscription> {
    const heartbeatInterval = Math.floor(sessionTimeoutMs / 5);
    const consumer: Consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // kafkajs heartbeats after a fetch that found nothing: with every partition paused, that is once per wait.
      maxWaitTimeInMs: Math.min(5_000, heartbeatInterval),
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let heartbeat: () => Promise<void> = () => Promise.resolve();
    const workers = new PartitionWorkers(
      handler,
      {
        pause: (partition) => consumer.pause([{ topic, partitions: [partition] }]),
        resume: (partition) => consumer.resume([{ topic, partitions: [partition] }]),
        seek: (partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
        heartbeat: () => heartbeat(),
      },
      { ...PARTITION_WORKERS, onHandlerError },
    );

    // Partitions may move: nothing fetched before is ours to apply any more.
    consumer.on(consumer.events.REBALANCING, () => workers.reassign());
    // On every assignment, start each partition at the offset stored beside the read models. Only a shortcut:
    // each batch checks the stored offset again, so when they cannot be read (PostgreSQL down) the batches
    // that follow skip what was applied and seek past it; a rejection here would end the process.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the listener catches its own failures
    consumer.on(consumer.events.GROUP_JOIN, async (event) => {
      workers.reassign();
      const partitions = event.payload.memberAssignment[topic] ?? [];
      try {
        const offsets = await startOffsets(partitions);
        for (const partition of partitions) workers.seek(partition, offsets.get(partition) ?? 0);
      } catch (error) {
        onJoinError?.(error as Error);
      }
    });

    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Each batch is only queued here (see PartitionWorkers): handing them over at once is cheap.
      partitionsConsumedConcurrently: PARTITION_WORKERS.concurrency,
      // eslint-disable-next-line @typescript-eslint/unbound-method -- kafkajs types these closures as methods
      eachBatch: async ({ batch, heartbeat: beat, resolveOffset }) => {
        heartbeat = beat;
        const queued = workers.offer(
          {
            topic: batch.topic,
            partition: batch.partition,
            records: batch.messages.map(toLogRecord(batch.partition)),
            highWatermark: Number(batch.highWatermark),
          },
          // kafkajs's Batch keeps the offset it was fetched from, though its types leave it out.
          Number((batch as typeof batch & { fetchedOffset: string }).fetchedOffset),
        );
        // Fetch on past what was queued; a dropped batch leaves the position where its seek put it.
        if (queued) resolveOffset(batch.lastOffset());
      },
    });
    const stop = async () => {
      await workers.stop(sessionTimeoutMs);
      await consumer.disconnect();
    };
    this.closers.push(stop);
    return { stop };
  }

  override producerStates(): ProducerState[] {
    return [...this.producers].map((state) => state());
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.connectedAdmin();
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions`);
    return count;
  }

  private async connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }
}

const toLogRecord =
  (partition: number) =>
  (message: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders }): LogRecord => ({
    partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key ? message.key.toString() : null,
    value: message.value,
    headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, headerText(value)])),
  });

/** Records by the partition they name, else the one kafkajs's default partitioner gives their key (murmur2), each partition in order. */
export function byPartition(records: OutgoingRecord[], partitionCount: number): Map<number, OutgoingRecord[]> {
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0 })) as PartitionMetadata[];
  const partitions = new Map<number, OutgoingRecord[]>();
  for (const record of records) {
    const partition = record.partition ?? keyPartitioner({ topic: '', partitionMetadata, message: { key: record.key, value: record.value } });
    const list = partitions.get(partition);
    if (list) list.push(record);
    else partitions.set(partition, [record]);
  }
  return partitions;
}

const keyPartitioner = Partitioners.DefaultPartitioner();

/**
 * Per partition, up to two fetches' worth (maxBytesPerPartition is 4 MiB) may wait behind the batch being
 * applied; four partitions are applied at once, as kafkajs did for us before.
 */
const PARTITION_WORKERS = { maxQueuedBytes: 8 * 1024 * 1024, concurrency: 4, retryDelayMs: 1_000 };

/** The partitions a send carried that its answer does not acknowledge. */
export function unacknowledgedPartitions(sent: number[], topic: string, acknowledged: RecordMetadata[]): number[] {
  const answered = new Set(acknowledged.filter((entry) => entry.topicName === topic && entry.errorCode === 0).map((entry) => entry.partition));
  return sent.filter((partition) => !answered.has(partition));
}

/** What a record weighs in a produce request, near enough to cap batches by bytes. */
function recordBytes(record: OutgoingRecord): number {
  const headers = Object.entries(record.headers).reduce((total, [name, value]) => total + name.length + Buffer.byteLength(value), 0);
  return Buffer.byteLength(record.key) + Buffer.byteLength(record.value) + headers;
}

function headerText(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
