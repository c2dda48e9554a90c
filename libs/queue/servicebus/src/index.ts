export * from './servicebus-queue';
export * from './message-mapping';
export * from './errors';
export * from './counts';
