// Development infrastructure: throw-away Kafka brokers, PostgreSQL servers and their streaming read replicas,
// Prometheus servers, the apps as child processes, ports, a TCP proxy for faults, development tokens, an SSE
// client and sample events.
// `npm start`, the bench, the chaos lab and the tests run on it; production code never imports it.
export * from './dev-tokens';
export * from './embedded-postgres';
export * from './embedded-replica';
export * from './free-ports';
export * from './kafka-broker';
export * from './postgres-cluster';
export * from './process-alive';
export * from './prometheus-server';
export type { RunningReplica } from './read-replica';
export * from './sample-events';
export * from './service-process';
export * from './sse-reader';
export * from './tcp-proxy';
