export * from './parse-env';
export * from './start-or-exit';
