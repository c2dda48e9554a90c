export * from './workspace';
export * from './temp-dir';
export * from './child-process';
