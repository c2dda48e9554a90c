export * from './queue';
export * from './errors';
export * from './lock-renewal';
