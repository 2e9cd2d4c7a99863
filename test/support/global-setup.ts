import { startKafkaBroker, type RunningKafkaBroker } from './kafka-broker';

declare global {
  // Shared between global setup and teardown (same process).
  var testKafkaBroker: RunningKafkaBroker | undefined;
}

/** One throw-away broker for the whole run; each test file uses topics and a database of its own. */
export default async function globalSetup(): Promise<void> {
  const broker = await startKafkaBroker();
  globalThis.testKafkaBroker = broker;
  process.env.TEST_KAFKA_BROKERS = broker.bootstrap;
}
