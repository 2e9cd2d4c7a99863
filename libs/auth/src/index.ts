export * from './grant';
export * from './token-verifier';
