export * from './pool';
export * from './migrations';
export * from './projection.repository';
export * from './decision.repository';
export * from './timeline-read.repository';
export * from './decision-notifications';
export * from './database.module';
