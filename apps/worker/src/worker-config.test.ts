import { ConfigError } from '@gpu-jobs/config';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './worker-config';

describe('worker configuration', () => {
  it('has embedded defaults', () => {
    expect(loadWorkerConfig({})).toMatchObject({
      PORT: 8081,
      WORKER_LANE: 'small-gpu',
      WORKER_CONCURRENCY: 1,
      ORT_EXECUTION_PROVIDER: 'cpu',
      DATA_DIR: './.data',
      QUEUE_ADAPTER: 'embedded',
    });
  });

  it('names a bad variable at start-up', () => {
    expect(() => loadWorkerConfig({ ORT_EXECUTION_PROVIDER: 'tpu', WORKER_CONCURRENCY: '0' })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ ORT_EXECUTION_PROVIDER: 'tpu' })).toThrow(/ORT_EXECUTION_PROVIDER/);
    expect(() => loadWorkerConfig({ QUEUE_ADAPTER: 'servicebus' })).toThrow(/QUEUE_ADAPTER/);
  });
});
