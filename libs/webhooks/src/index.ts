export * from './url-policy';
export * from './signing';
export * from './backoff';
export * from './sender';
