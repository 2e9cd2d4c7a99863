export * from './metrics';
export * from './tracing';
export * from './logging';
export * from './observability.module';
export * from './projection-lag';
