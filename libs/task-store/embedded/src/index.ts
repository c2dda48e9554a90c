export * from './embedded-task-store';
