export * from './open-database';
export * from './change-signal';
