export * from './decide-batch';
export * from './partition-memory';
