export * from './task-store-contract';
export * from './task-store-factory';
export * from './sample-job';
export * from './budget-check';
