/**
 * Issue 20, change 4 measured in isolation, on a throw-away broker (3 partitions), both ways in the same run
 * so that a busy machine weighs on both alike:
 *   produce   our group commit over an idempotent producer (maxInFlightRequests 1, acks all), closed loop at
 *             1 and 64 callers: one send per partition (as before) against one send per batch (one request
 *             per leader, as now); 2 s slices taken in turn, 5 each.
 *   consume   records produced at a fixed rate to the 3 partitions; the handler waits as a projector batch
 *             would (partition 0 slower than the others); the time from a record's append to the end of its
 *             batch, with kafkajs's eachBatch (a fetch waits for every batch of the one before, as before)
 *             and with KafkaCommandLog.subscribe (PartitionWorkers, as now); 3 runs of 8 s each, in turn.
 * Run: `npm run --silent build && node dist/scripts/bench/kafka-lockstep.js` (prints a table).
 */
import { randomBytes } from 'node:crypto';
import { byPartition, commandsTopicSpec, GroupCommit, KafkaCommandLog, type LogRecord, type OutgoingRecord } from '@timeline/command-log';
import { startKafkaBroker } from '@timeline/dev-stack';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { round, summarize, table } from './stats';

const PARTITIONS = 3;
const SLICE_MS = 2_000;
const SLICES = 5;
const CONSUME_RUNS = 3;
const CONSUME_MS = 8_000;
const CONSUME_RATE = 600;
/** What a batch costs its handler: a fixed wait, partition 0 longer, as a projector transaction would take. */
const handlerWaitMs = (partition: number, records: number) => (partition === 0 ? 25 : 3) + records * 0.02;

type SendMode = 'per partition' | 'per leader';

async function main(): Promise<void> {
  const broker = await startKafkaBroker();
  const brokers = [broker.bootstrap];
  try {
    const kafka = new Kafka({ clientId: 'bench-lockstep', brokers, logLevel: logLevel.NOTHING });
    const produceRows = await measureProduce(kafka, brokers);
    const consumeRows = await measureConsume(kafka, brokers);
    console.log('\nProduce: group commit over one idempotent producer, closed loop, 2 s slices in turn');
    console.log(table(['callers', 'sends', 'appends/s', 'p50 ms', 'p99 ms'], produceRows));
    console.log('\nConsume: append -> end of its batch, 600 records/s over 3 partitions, partition 0 handled slower');
    console.log(table(['consumer', 'partition', 'records', 'p50 ms', 'p99 ms', 'max ms'], consumeRows));
  } finally {
    await broker.stop();
  }
}

async function measureProduce(kafka: Kafka, brokers: string[]): Promise<(string | number)[][]> {
  const topic = `lockstep-produce-${randomBytes(4).toString('hex')}`;
  const log = new KafkaCommandLog({ brokers, clientId: 'bench-lockstep-admin' });
  await log.ensureTopics([commandsTopicSpec(topic, PARTITIONS, 1)]);
  await log.close();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const rows: (string | number)[][] = [];
  try {
    for (const callers of [1, 64]) {
      const groups = { 'per partition': newGroup(producer, topic, 'per partition'), 'per leader': newGroup(producer, topic, 'per leader') };
      const samples: Record<SendMode, { done: number; ms: number; latencies: number[] }> = {
        'per partition': { done: 0, ms: 0, latencies: [] },
        'per leader': { done: 0, ms: 0, latencies: [] },
      };
      for (let slice = 0; slice < SLICES * 2 + 2; slice += 1) {
        const mode: SendMode = slice % 2 === 0 ? 'per partition' : 'per leader';
        const warmUp = slice < 2;
        const result = await closedLoop(groups[mode], callers, SLICE_MS);
        if (warmUp) continue;
        samples[mode].done += result.latencies.length;
        samples[mode].ms += SLICE_MS;
        samples[mode].latencies.push(...result.latencies);
      }
      for (const mode of ['per partition', 'per leader'] as const) {
        const { done, ms, latencies } = samples[mode];
        const summary = summarize(latencies);
        rows.push([callers, mode, round((done * 1_000) / ms), summary.p50, summary.p99]);
      }
    }
  } finally {
    await producer.disconnect();
  }
  return rows;
}

function newGroup(producer: Producer, topic: string, mode: SendMode): GroupCommit<OutgoingRecord> {
  return new GroupCommit<OutgoingRecord>(
    async (records) => {
      const partitions = [...byPartition(records, PARTITIONS)];
      const messages = (partition: number, list: OutgoingRecord[]) => list.map((record) => ({ ...record, partition }));
      if (mode === 'per leader') await producer.send({ topic, acks: -1, messages: partitions.flatMap(([partition, list]) => messages(partition, list)) });
      else await Promise.all(partitions.map(([partition, list]) => producer.send({ topic, acks: -1, messages: messages(partition, list) })));
    },
    { lingerMs: 0, maxBatch: 500 },
  );
}

async function closedLoop(group: GroupCommit<OutgoingRecord>, callers: number, durationMs: number): Promise<{ latencies: number[] }> {
  const latencies: number[] = [];
  const until = performance.now() + durationMs;
  const value = JSON.stringify({ type: 'RecordEvent', payload: 'x'.repeat(300) });
  await Promise.all(
    Array.from({ length: callers }, async (_, caller) => {
      for (let n = 0; performance.now() < until; n += 1) {
        const started = performance.now();
        await group.add({ key: `timeline-${(caller + n) % 8}`, value, headers: {} });
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { latencies };
}

async function measureConsume(kafka: Kafka, brokers: string[]): Promise<(string | number)[][]> {
  const samples: Record<string, number[][]> = { 'kafkajs eachBatch': [[], [], []], PartitionWorkers: [[], [], []] };
  for (let run = 0; run < CONSUME_RUNS; run += 1) {
    for (const consumer of ['kafkajs eachBatch', 'PartitionWorkers'] as const) {
      const latencies = await consumeOnce(kafka, brokers, consumer);
      latencies.forEach((list, partition) => samples[consumer][partition].push(...list));
    }
  }
  return Object.entries(samples).flatMap(([consumer, perPartition]) =>
    perPartition.map((latencies, partition) => {
      const summary = summarize(latencies);
      return [consumer, partition, summary.count, summary.p50, summary.p99, summary.max];
    }),
  );
}

/** Produces at CONSUME_RATE for CONSUME_MS into a fresh topic while one consumer handles it; latencies per partition. */
async function consumeOnce(kafka: Kafka, brokers: string[], consumer: 'kafkajs eachBatch' | 'PartitionWorkers'): Promise<number[][]> {
  const topic = `lockstep-consume-${randomBytes(4).toString('hex')}`;
  const log = new KafkaCommandLog({ brokers, clientId: 'bench-lockstep-consumer' });
  await log.ensureTopics([commandsTopicSpec(topic, PARTITIONS, 1)]);
  const latencies: number[][] = [[], [], []];
  const handle = async (partition: number, records: Pick<LogRecord, 'timestamp'>[]) => {
    await new Promise((resolve) => setTimeout(resolve, handlerWaitMs(partition, records.length)));
    const now = Date.now();
    for (const record of records) latencies[partition].push(now - record.timestamp);
  };
  let joined = false;
  let stop: () => Promise<void>;
  if (consumer === 'PartitionWorkers') {
    const subscription = await log.subscribe({
      topic,
      groupId: `${topic}-group`,
      sessionTimeoutMs: 10_000,
      startOffsets: (partitions) => {
        joined = true;
        return Promise.resolve(new Map(partitions.map((partition) => [partition, 0])));
      },
      handler: (batch) => handle(batch.partition, batch.records),
    });
    stop = () => subscription.stop();
  } else {
    // The consumer as it was before: kafkajs fetches again only once every batch of a fetch is handled.
    const plain = kafka.consumer({ groupId: `${topic}-group`, sessionTimeout: 10_000, maxBytesPerPartition: 4 * 1024 * 1024 });
    plain.on(plain.events.GROUP_JOIN, () => (joined = true));
    await plain.connect();
    await plain.subscribe({ topics: [topic], fromBeginning: true });
    await plain.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: ({ batch }) =>
        handle(
          batch.partition,
          batch.messages.map((message) => ({ timestamp: Number(message.timestamp) })),
        ),
    });
    stop = () => plain.disconnect();
  }
  while (!joined) await new Promise((resolve) => setTimeout(resolve, 50));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = performance.now();
  const value = 'x'.repeat(300);
  for (let sent = 0; performance.now() - started < CONSUME_MS;) {
    const due = Math.floor(((performance.now() - started) * CONSUME_RATE) / 1_000);
    if (due > sent) {
      const messages = Array.from({ length: due - sent }, (_, index) => ({ key: null, value, partition: (sent + index) % PARTITIONS }));
      await producer.send({ topic, acks: -1, messages });
      sent = due;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  await producer.disconnect();
  await stop();
  await log.close();
  return latencies;
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
