/**
 * Append -> subscriber latency: open-model appends at a fixed rate while two subscribers watch for the
 * changes: a kafkajs consumer of the events topic (the relay's output) and a client of the api's SSE stream
 * `GET /v1/stream`. A change is matched to its POST by its CloudEvents id, changeEventId(commandId, 0), the
 * commandId coming from the POST's answer; latency runs from when the POST was due to when the change arrived.
 */
import * as http from 'node:http';
import { randomBytes } from 'node:crypto';
import { changeEventId } from '@timeline/change-events';
import { Kafka, logLevel } from 'kafkajs';
import { offerLoad, type OpenLoadResult, type OpenLoadSample } from './open-load';
import { summarize, type LatencySummary } from './stats';
import { runCredentials } from '../auth/run-credentials';

export interface SubscriberLatencySpec {
  baseUrl: string;
  paths: string[];
  body: string;
  ratePerSecond: number;
  durationS: number;
  brokers: string[];
  eventsTopic: string;
  /** After the load, how long to wait for the last changes to arrive. */
  drainMs: number;
  /** When given: every request's times (see offerLoad), and when each change arrived (ms since the epoch). */
  samples?: OpenLoadSample[];
  arrivals?: { kafka: Arrival[]; sse: Arrival[] };
}

export interface Arrival {
  dueAt: number;
  arrivedAt: number;
}

export interface SubscriberLatencyResult {
  load: OpenLoadResult;
  /** Changes answered with a commandId (201 or 202). */
  appends: number;
  kafka: LatencySummary & { missing: number };
  sse: LatencySummary & { missing: number };
}

export async function measureSubscriberLatency(spec: SubscriberLatencySpec): Promise<SubscriberLatencyResult> {
  const seenOnKafka = new Map<string, number>();
  const seenOnSse = new Map<string, number>();
  const dueByChangeId = new Map<string, number>();

  const kafka = new Kafka({ clientId: 'bench-subscriber', brokers: spec.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-subscriber-${randomBytes(4).toString('hex')}` });
  const sse = await openStream(`${spec.baseUrl}/v1/stream`, (id) => {
    if (!seenOnSse.has(id)) seenOnSse.set(id, performance.now());
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: spec.eventsTopic, fromBeginning: false });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ message }) => {
        const id = message.headers?.ce_id?.toString();
        if (id && !seenOnKafka.has(id)) seenOnKafka.set(id, performance.now());
      },
    });
    await joined;
    // A fresh group starts at the end of the log only once it has fetched offsets: let it settle.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const load = await offerLoad({
      baseUrl: spec.baseUrl,
      paths: spec.paths,
      body: spec.body,
      ratePerSecond: spec.ratePerSecond,
      durationS: spec.durationS,
      samples: spec.samples,
      onAnswer: ({ dueAt, status, body }) => {
        if (status !== 201 && status !== 202) return;
        const commandId = (JSON.parse(body) as { commandId?: string }).commandId;
        if (commandId) dueByChangeId.set(changeEventId(commandId, 0), dueAt);
      },
    });
    await waitUntil(() => [...dueByChangeId.keys()].every((id) => seenOnKafka.has(id) && seenOnSse.has(id)), spec.drainMs);
    const latencies = (seen: Map<string, number>) => {
      const samples: number[] = [];
      for (const [id, dueAt] of dueByChangeId) {
        const arrivedAt = seen.get(id);
        if (arrivedAt !== undefined) samples.push(arrivedAt - dueAt);
      }
      return { ...summarize(samples), missing: dueByChangeId.size - samples.length };
    };
    const epochOf = (monotonic: number) => performance.timeOrigin + monotonic;
    for (const [id, dueAt] of dueByChangeId) {
      const onKafka = seenOnKafka.get(id);
      const onSse = seenOnSse.get(id);
      if (onKafka !== undefined) spec.arrivals?.kafka.push({ dueAt: epochOf(dueAt), arrivedAt: epochOf(onKafka) });
      if (onSse !== undefined) spec.arrivals?.sse.push({ dueAt: epochOf(dueAt), arrivedAt: epochOf(onSse) });
    }
    return { load, appends: dueByChangeId.size, kafka: latencies(seenOnKafka), sse: latencies(seenOnSse) };
  } finally {
    sse.destroy();
    await consumer.disconnect().catch(() => undefined);
  }
}

/** An SSE client that reports the CloudEvents id of every `data:` message as it arrives. */
function openStream(url: string, onChange: (cloudEventId: string) => void): Promise<http.ClientRequest> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...runCredentials.authorization } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET ${url} answered ${response.statusCode}`));
        response.resume();
        return;
      }
      let buffered = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 1);
          if (line.startsWith('data:')) onChange((JSON.parse(line.slice(5)) as { id: string }).id);
        }
      });
      response.on('error', () => undefined);
      resolve(request);
    });
    request.on('error', reject);
  });
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}
