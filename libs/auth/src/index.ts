export * from './grant';
export * from './token-verifier';
export * from './access-rules';
export * from './access.guard';
export * from './auth.module';
