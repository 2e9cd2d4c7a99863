export * from './command-log';
export * from './command-record';
export * from './command-fingerprint';
export * from './group-commit';
export * from './kafka-command-log';
export * from './command-log.module';
