export * from './tenants';
export * from './tenant-registry';
export * from './policy';
export * from './token-bucket';
export * from './cost';
export * from './fair-order';
