export * from './timeline-client';
export type { components, operations, paths } from './openapi';
