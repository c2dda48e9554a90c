export * from './mongo-task-store';
export * from './documents';
