export * from './parse-env';
export * from './start-or-exit';
export * from './process-control';
