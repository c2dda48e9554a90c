export * from './platform-config';
export * from './ports';
export * from './dispatch';
export * from './fair-dispatcher';
export * from './sweeper';
export * from './webhook-dispatcher';
export * from './scaler';
export * from './periodic';
