export * from './valid-time';
export * from './storable-text';
export * from './event-data';
export * from './commands';
export * from './timeline';
export * from './decide';
export * from './stable-id';
