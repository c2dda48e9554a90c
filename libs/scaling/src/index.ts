export * from './policy';
export * from './keda';
