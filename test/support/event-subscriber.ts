import { CloudEvent, Kafka as KafkaBinding, type KafkaMessage } from 'cloudevents';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface ReceivedChange {
  partition: number;
  offset: number;
  key: string;
  headers: Record<string, string>;
  event: CloudEvent<Record<string, any>>;
}

/**
 * A subscriber of timeline.events as another team would write it: kafkajs to
 * read, the CloudEvents SDK's Kafka binding to decode binary-mode records.
 */
export class EventSubscriber {
  readonly received: ReceivedChange[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(brokers: string[], topic: string): Promise<EventSubscriber> {
    const kafka = new Kafka({ clientId: 'test-subscriber', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `test-subscriber-${Math.random().toString(36).slice(2)}` });
    const subscriber = new EventSubscriber(consumer);
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(Array.isArray(value) ? value[0] : value)]),
        );
        const key = message.key!.toString();
        const record: KafkaMessage = { key, value: message.value!, headers, body: message.value, timestamp: message.timestamp };
        const event = KafkaBinding.toEvent(record) as CloudEvent<Record<string, any>>;
        subscriber.received.push({ partition, offset: Number(message.offset), key, headers, event });
      },
    });
    return subscriber;
  }

  /** Each CloudEvent once, in the order first received: what a subscriber that drops duplicates by id sees. */
  distinct(): ReceivedChange[] {
    const seen = new Set<string>();
    return this.received.filter(({ event }) => !seen.has(event.id) && seen.add(event.id) !== undefined);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
