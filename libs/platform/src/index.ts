export * from './platform-config';
export * from './ports';
export * from './dispatch';
