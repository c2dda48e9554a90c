export * from './embedded-queue';
