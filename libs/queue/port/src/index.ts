export * from './queue';
export * from './errors';
