export * from './azure-blob-store';
export * from './blob-location';
