export * from './local-worker-pool';
