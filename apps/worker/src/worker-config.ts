import { hostname } from 'node:os';
import Type from 'typebox';
import { PlatformConfig, parsePlatformEnv } from '@gpu-jobs/platform';

export const WorkerConfig = Type.Object({
  ...PlatformConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8081, description: 'probes, metrics and drain' }),
  HOST: Type.String({ default: '127.0.0.1' }),
  WORKER_LANE: Type.String({ minLength: 1, default: 'small-gpu', description: 'the lane (queue) this worker serves', 'x-cloud': 'set' }),
  WORKER_ID: Type.String({ minLength: 1, default: `${hostname()}-${process.pid}` }),
  WORKER_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'jobs run at once, one inference thread each' }),
  WORKER_DRAIN_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
  WORKER_RECEIVE_WAIT_SECONDS: Type.Integer({ minimum: 1, maximum: 60, default: 5 }),
  RESULT_INLINE_MAX_BYTES: Type.Integer({ minimum: 0, default: 262_144, description: 'larger results go to the blob store' }),
  ORT_EXECUTION_PROVIDER: Type.Enum(['cpu', 'cuda'], { default: 'cpu' }),
  ORT_INTRA_OP_THREADS: Type.Integer({ minimum: 1, maximum: 64, default: 2 }),
});
export type WorkerConfig = Type.Static<typeof WorkerConfig>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parsePlatformEnv(WorkerConfig, env);
}
