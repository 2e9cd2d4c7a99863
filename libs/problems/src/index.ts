export * from './problem';
export * from './problem-details.filter';
export * from './http-server-options';
