import type { ModelEntry } from '@gpu-jobs/job-contract';

type Costed = Pick<ModelEntry, 'costUnits' | 'costUnitsPerSecond'>;

/** Reserved from the daily budget when the job is admitted. */
export function estimatedCost(model: Costed): number {
  return model.costUnits;
}

/** Charged when the job succeeds: per second of inference when the model says so, else the estimate. */
export function actualCost(model: Costed, inferenceSeconds: number): number {
  if (model.costUnitsPerSecond === undefined) return model.costUnits;
  return Math.round(model.costUnitsPerSecond * Math.max(0, inferenceSeconds) * 1e6) / 1e6;
}

/** The UTC day a budget is counted in. */
export function budgetDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** Seconds until the next UTC day starts, when a spent budget is whole again. */
export function secondsUntilNextDay(at: Date): number {
  const next = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1);
  return Math.max(1, Math.ceil((next - at.getTime()) / 1000));
}
