export * from './blob-store';
export * from './errors';
export * from './blob-key';
export * from './read-all';
