export * from './errors';
export * from './sessions';
export * from './registry/model-registry';
export * from './loaded-model';
export * from './ocr/ocr-pipeline';
export * from './tensor/tensor-runner';
