export * from './local-keys';
export * from './token-verifier';
export * from './auth-config';
