import { randomBytes } from 'node:crypto';
import { generateDevKeyPair, type RunningKafkaBroker, type RunningPostgres, startEmbeddedPostgres, startKafkaBroker } from '@timeline/dev-stack';

declare global {
  // Shared between global setup and teardown (same process).
  var testKafkaBroker: RunningKafkaBroker | undefined;
  var testPostgres: RunningPostgres | undefined;
}

/**
 * One throw-away broker and, unless TEST_DATABASE_URL names a PostgreSQL server, one throw-away embedded
 * PostgreSQL for the whole run; each test file uses topics and a database of its own.
 */
export default async function globalSetup(): Promise<void> {
  const scram = { username: 'timeline-test', password: randomBytes(12).toString('base64url') };
  const [broker, postgres] = await Promise.allSettled([
    // With SCRAM listeners (plain and TLS) beside the plain one, for the tests of the clients' SASL and TLS settings.
    startKafkaBroker({ scram }),
    process.env.TEST_DATABASE_URL ? undefined : startEmbeddedPostgres(),
  ]);
  globalThis.testKafkaBroker = broker.status === 'fulfilled' ? broker.value : undefined;
  globalThis.testPostgres = postgres.status === 'fulfilled' ? postgres.value : undefined;
  const failed = [broker, postgres].find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all([globalThis.testKafkaBroker?.stop(), globalThis.testPostgres?.stop()]);
    throw failed.reason;
  }
  process.env.TEST_KAFKA_BROKERS = globalThis.testKafkaBroker!.bootstrap;
  process.env.TEST_KAFKA_SASL_BROKERS = globalThis.testKafkaBroker!.saslBootstrap;
  process.env.TEST_KAFKA_SASL_SSL_BROKERS = globalThis.testKafkaBroker!.saslSslBootstrap;
  process.env.TEST_KAFKA_CA_FILE = globalThis.testKafkaBroker!.caFile;
  process.env.TEST_KAFKA_SCRAM_USER = scram.username;
  process.env.TEST_KAFKA_SCRAM_PASSWORD = scram.password;
  if (globalThis.testPostgres) process.env.TEST_DATABASE_URL = globalThis.testPostgres.url;
  // The run's token-signing key pair: services verify with the public key, test/support/tokens.ts signs.
  const keys = generateDevKeyPair();
  process.env.TEST_AUTH_PUBLIC_KEY = keys.publicKeyPem;
  process.env.TEST_AUTH_PRIVATE_KEY = keys.privateKeyPem;
}
