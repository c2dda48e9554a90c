export * from './workspace';
export * from './temp-dir';
export * from './child-process';
export * from './onnx-models';
export * from './platform-process';
export * from './start-together';
export * from './azurite';
