export default async function globalTeardown(): Promise<void> {
  await Promise.all([globalThis.testKafkaBroker?.stop(), globalThis.testPostgres?.stop()]);
}
