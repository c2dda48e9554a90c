import type { Job, JobStatus, JobVersion } from '@gpu-jobs/job-contract';

/**
 * The task store port: where jobs and the per-tenant counters live. Every change of a job's state is a
 * conditional write (compare-and-set on status and attempts), so a late or duplicate writer can never
 * move a finished job or write a second result.
 */

export interface ListJobsQuery {
  tenantId: string;
  status?: JobStatus;
  model?: string;
  /** 1 to 100. */
  limit: number;
  /** From the previous page's nextCursor. */
  cursor?: string;
}

export interface JobPage {
  /** Newest first. */
  items: Job[];
  /** Present when there may be more. */
  nextCursor?: string;
}

export interface CreateOptions {
  /** Required when the job has an idempotencyKey: what the key protects and until when. */
  idempotency?: { requestHash: string; expiresAt: Date };
}

export interface CreateResult {
  job: Job;
  /** False when an earlier request with the same idempotency key and body already created the job. */
  created: boolean;
}

export interface DueQuery {
  status: JobStatus;
  /** Only jobs whose deadline is before this. */
  deadlineBefore?: Date;
  /** Only jobs not changed since before this. */
  updatedBefore?: Date;
  /** Only jobs changed after this. */
  updatedAfter?: Date;
  /** Only jobs no worker has started yet (attempts = 0). */
  neverStarted?: boolean;
  limit: number;
}

export interface UsageChange {
  applied: boolean;
  /** The tenant's total for the day after the change (or unchanged, when not applied). */
  total: number;
}

export interface TaskStore {
  /** Stores a new job. With an idempotency key: the same key and request hash return the first job. */
  create(job: Job, options?: CreateOptions): Promise<CreateResult>;
  /** With tenantId, another tenant's job is not found. */
  get(id: string, tenantId?: string): Promise<Job | undefined>;
  list(query: ListJobsQuery): Promise<JobPage>;
  /** Replaces the job only if its status and attempts still equal `expected`; returns the stored job or undefined. */
  compareAndSet(id: string, expected: JobVersion, next: Job): Promise<Job | undefined>;
  /** Jobs for sweepers and repair passes, oldest deadline (then oldest change) first. */
  findDue(query: DueQuery): Promise<Job[]>;
  /** Jobs of the tenant that are queued or running. */
  countActive(tenantId: string): Promise<number>;
  /**
   * Adds `delta` to the tenant's usage for `day` (YYYY-MM-DD, UTC). A positive delta applies only if the
   * total stays within `limit`; concurrent callers can never overspend. A negative delta (refund) always
   * applies and never takes the total below zero.
   */
  addUsage(tenantId: string, day: string, delta: number, limit?: number): Promise<UsageChange>;
  getUsage(tenantId: string, day: string): Promise<number>;
  /**
   * Waits until the job's updatedAt differs from `sinceUpdatedAt` (a write by any process), `timeoutMs`
   * passes, or `signal` aborts, and returns the job as it then is (undefined if it does not exist or is
   * another tenant's). Long-polls use it to wake on a status change without re-reading in a loop.
   */
  waitForJobChange(
    id: string,
    sinceUpdatedAt: string,
    timeoutMs: number,
    options?: { tenantId?: string; signal?: AbortSignal },
  ): Promise<Job | undefined>;
  close(): Promise<void>;
}
