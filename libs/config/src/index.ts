export * from './timeline-config';
export * from './config.module';
