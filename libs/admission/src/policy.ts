import type { ProblemCode } from '@gpu-jobs/job-contract';
import { budgetDay, secondsUntilNextDay } from './cost';
import { modelAllowed, type TenantLimits } from './tenants';

/** The limits a request can hit, each with its own stable problem code. */
export const LIMITS = {
  model: 'model_not_allowed',
  inputSize: 'payload_too_large',
  rate: 'rate_limited',
  concurrency: 'concurrency_limited',
  budget: 'budget_exceeded',
} as const satisfies Record<string, ProblemCode>;
export type LimitName = keyof typeof LIMITS;

export interface SubmitRequest {
  model: string;
  /** Decoded input size. */
  inputBytes: number;
  /** What the job is expected to cost (estimatedCost of the model). */
  cost: number;
  at: Date;
}

export interface TenantUsage {
  /** Jobs of the tenant queued or running. */
  activeJobs: number;
  /** Cost units used or reserved today (UTC). */
  budgetUsed: number;
}

export interface Rejection {
  allowed: false;
  limit: LimitName;
  code: ProblemCode;
  detail: string;
  /** Present when waiting helps: rate, concurrency and budget. */
  retryAfterSeconds?: number;
}

export type Decision = { allowed: true; day: string; cost: number } | Rejection;

/** When a tenant at its concurrency limit should try again: a job slot frees when one of its jobs ends. */
export const CONCURRENCY_RETRY_SECONDS = 5;

/**
 * Admission of one job submission, without I/O: the tenant's limits and usage in, allowed or the limit that
 * was hit out. It is two halves so the usage half can run where usage is exact: the gateway applies
 * `requestLimitHit` (model, size) itself and hands `usageLimitHit` to the task store, which evaluates it
 * inside the transaction that creates the job, so concurrent submits can never pass a limit together.
 */
export function admit(request: SubmitRequest, limits: TenantLimits, usage: TenantUsage): Decision {
  const hit = requestLimitHit(request, limits) ?? usageLimitHit(request, limits, usage);
  if (hit) return rejection(hit, limits, usage, request);
  return { allowed: true, day: budgetDay(request.at), cost: request.cost };
}

/** The limits a request can hit whatever the tenant's usage: the model and the input size. */
export function requestLimitHit(request: SubmitRequest, limits: TenantLimits): 'model' | 'inputSize' | undefined {
  if (!modelAllowed(limits, request.model)) return 'model';
  if (request.inputBytes > limits.maxInputBytes) return 'inputSize';
  return undefined;
}

/** The limits that depend on usage: jobs queued or running, and today's budget (the job's cost included). */
export function usageLimitHit(request: SubmitRequest, limits: TenantLimits, usage: TenantUsage): 'concurrency' | 'budget' | undefined {
  if (usage.activeJobs >= limits.maxConcurrentJobs) return 'concurrency';
  if (request.cost > 0 && usage.budgetUsed + request.cost > limits.dailyBudget) return 'budget';
  return undefined;
}

export function rejection(limit: LimitName, limits: TenantLimits, usage: TenantUsage, request: SubmitRequest): Rejection {
  const r = (detail: string, retryAfterSeconds?: number): Rejection => ({
    allowed: false,
    limit,
    code: LIMITS[limit],
    detail,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
  switch (limit) {
    case 'model':
      return r(`this tenant may not use model ${request.model}`);
    case 'inputSize':
      return r(`this tenant's inputs may be at most ${limits.maxInputBytes} bytes; this one has ${request.inputBytes}`);
    case 'rate':
      return r(`more than ${limits.requestsPerMinute} requests per minute`, 1);
    case 'concurrency':
      return r(
        `this tenant has ${usage.activeJobs} jobs queued or running; the limit is ${limits.maxConcurrentJobs}`,
        CONCURRENCY_RETRY_SECONDS,
      );
    case 'budget':
      return r(
        `today's budget is ${limits.dailyBudget} cost units; ${round(usage.budgetUsed)} are used or reserved and this job needs ${request.cost}`,
        secondsUntilNextDay(request.at),
      );
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
