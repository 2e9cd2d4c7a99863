/**
 * Baseline: a bare kafkajs producer, batched as our group commit batches (a batch leaves after the linger or
 * at the batch limit, one produce call in flight at a time, acks from all in-sync replicas), producing the
 * same records (a RecordEvent command as the api builds it, keyed by timeline) to a topic with the same
 * partitions, closed loop at the same concurrencies. What is left of our append once deciding, projecting
 * and answering are taken away.
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { measureClosedLoop, type ClosedLoopResult } from './closed-loop';
import { EVENT_BODY, recordEventRecord } from './replay';

export interface RawKafkaSpec {
  brokers: string[];
  topic: string;
  partitions: number;
  timelines: number;
  concurrencies: number[];
  warmupS: number;
  durationS: number;
  lingerMs: number;
  maxBatch: number;
}

export async function measureRawProduce(spec: RawKafkaSpec, onRow: (callers: number) => void): Promise<ClosedLoopResult[]> {
  const kafka = new Kafka({ clientId: 'bench-raw-producer', brokers: spec.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const producer = kafka.producer({ allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await admin.createTopics({ topics: [{ topic: spec.topic, numPartitions: spec.partitions, replicationFactor: 1 }], waitForLeaders: true });
    await producer.connect();
    const batcher = new LingerBatcher(producer, spec.topic, spec.lingerMs, spec.maxBatch);
    const timelineIds = Array.from({ length: spec.timelines }, (_, index) => `bench-${index + 1}`);
    const rows: ClosedLoopResult[] = [];
    for (const callers of spec.concurrencies) {
      onRow(callers);
      rows.push(
        await measureClosedLoop({
          callers,
          warmupS: spec.warmupS,
          durationS: spec.durationS,
          operation: (caller, sequence) => batcher.produce(recordEventRecord(timelineIds[(caller + sequence) % timelineIds.length], EVENT_BODY)),
        }),
      );
    }
    return rows;
  } finally {
    // The topic stays: the broker is thrown away at the end, and deleting a topic while the next section
    // creates its own made that creation fail once (metadata not yet on the broker) on a loaded machine.
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect();
  }
}

interface Waiting {
  message: { key: string; value: string; headers: Record<string, string> };
  done: (error?: Error) => void;
}

/** The group commit's batching, no more: no queue bounds, no timeouts, no retry policy of ours. */
class LingerBatcher {
  private waiting: Waiting[] = [];
  private timer: NodeJS.Timeout | null = null;
  private sending = false;

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly lingerMs: number,
    private readonly maxBatch: number,
  ) {}

  produce(message: Waiting['message']): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ message, done: (error) => (error ? reject(error) : resolve()) });
      if (this.waiting.length >= this.maxBatch) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Records that arrive during a send wait for it, then leave together.
    if (this.sending || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.maxBatch);
    this.sending = true;
    this.producer
      .send({ topic: this.topic, acks: -1, messages: batch.map((entry) => entry.message) })
      .then(
        () => batch.forEach((entry) => entry.done()),
        (error: Error) => batch.forEach((entry) => entry.done(error)),
      )
      .finally(() => {
        this.sending = false;
        if (this.waiting.length >= this.maxBatch) this.flush();
        else if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
      });
  }
}
