import Type from 'typebox';
import { PlatformConfig, parsePlatformEnv } from '@gpu-jobs/platform';
import { DEFAULT_POLICY, type LanePolicy } from '@gpu-jobs/scaling';

export const ScalerConfig = Type.Object({
  ...PlatformConfig.properties,
  SCALER_LANES: Type.Optional(Type.String({ description: 'comma-separated lanes; default: every lane of the model registry' })),
  SCALER_ORCHESTRATOR: Type.Enum(['local', 'kubernetes'], {
    default: 'local',
    description: 'local: a pool of worker processes on this machine; kubernetes: KEDA ScaledObjects',
    'x-cloud': { value: 'kubernetes' },
  }),
  SCALER_MIN_WORKERS: Type.Integer({ minimum: 0, default: 1 }),
  SCALER_MAX_WORKERS: Type.Integer({ minimum: 1, default: 4 }),
  SCALER_JOBS_PER_WORKER: Type.Integer({ minimum: 1, default: 1, description: "the workers' WORKER_CONCURRENCY" }),
  SCALER_TARGET_WAITING_PER_WORKER: Type.Integer({ minimum: 1, default: 2, description: 'tier 1: waiting jobs per worker' }),
  SCALER_REACTIVE_SECONDS: Type.Integer({ minimum: 1, default: 30, description: 'tier 2 period' }),
  SCALER_BASELINE_SECONDS: Type.Integer({ minimum: 1, default: 10_800, description: 'tier 3 period' }),
  SCALER_SCALE_DOWN_COOLDOWN_SECONDS: Type.Integer({
    minimum: 0,
    default: 1_800,
    description: 'no lowering of the floor this soon after a raise',
  }),
  SCALER_BASELINE_WINDOW_SECONDS: Type.Integer({ minimum: 4, default: 86_400, description: 'tier 3 looks this far back' }),
  SCALER_SCALE_IN_COOLDOWN_SECONDS: Type.Integer({
    minimum: 0,
    default: 60,
    description: 'local tier 1: idle time before a worker is drained',
  }),
  SCALER_POLICIES: Type.Optional(
    Type.String({ description: 'JSON: per-lane overrides of the policy, e.g. {"small-gpu":{"maxReplicas":8}}' }),
  ),
  SCALER_WORKER_COMMAND: Type.String({
    default: 'node --import tsx apps/worker/src/main.ts',
    description: 'local orchestrator: how to start a worker (run from the workspace root)',
  }),
  K8S_NAMESPACE: Type.String({ default: 'gpu-jobs' }),
  K8S_NAME_PREFIX: Type.String({ default: 'worker-', description: "a lane's Deployment and ScaledObject are <prefix><lane>" }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8082, description: 'local scaler: status and metrics' }),
  HOST: Type.String({ default: '127.0.0.1' }),
});
export type ScalerConfig = Type.Static<typeof ScalerConfig>;

export function loadScalerConfig(env: NodeJS.ProcessEnv = process.env): ScalerConfig {
  return parsePlatformEnv(ScalerConfig, env);
}

/** A lane's policy: the defaults, the SCALER_* numbers, then the lane's entry in SCALER_POLICIES. */
export function lanePolicy(config: ScalerConfig, lane: string): LanePolicy {
  const overrides = config.SCALER_POLICIES ? ((JSON.parse(config.SCALER_POLICIES) as Record<string, Partial<LanePolicy>>)[lane] ?? {}) : {};
  return {
    ...DEFAULT_POLICY,
    minReplicas: config.SCALER_MIN_WORKERS,
    maxReplicas: config.SCALER_MAX_WORKERS,
    jobsPerWorker: config.SCALER_JOBS_PER_WORKER,
    targetMessagesPerWorker: config.SCALER_TARGET_WAITING_PER_WORKER,
    scaleDownCooldownMs: config.SCALER_SCALE_DOWN_COOLDOWN_SECONDS * 1000,
    baselineWindowMs: config.SCALER_BASELINE_WINDOW_SECONDS * 1000,
    ...overrides,
  };
}
