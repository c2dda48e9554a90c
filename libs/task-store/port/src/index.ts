export * from './task-store';
export * from './errors';
export * from './cursor';
export * from './apply-event';
export * from './job-change-watcher';
