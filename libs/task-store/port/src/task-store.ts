import type { BucketParams, TakeResult, TenantUsage } from '@gpu-jobs/admission';
import type { Job, JobStatus, JobVersion, WebhookAttempt, WebhookDelivery, WriteEffects } from '@gpu-jobs/job-contract';

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
  /**
   * Evaluated inside the write that creates the job, with the tenant's usage at that moment (active jobs, and
   * the budget used on `cost.day`), so concurrent creates can never pass a limit together: a limit named
   * here refuses the create with LimitReachedError. A job with `cost` reserves `cost.reserved` in the same
   * write. An idempotent replay returns the first job without checking.
   */
  check?: (usage: TenantUsage) => 'concurrency' | 'budget' | undefined;
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
  /** Only jobs released to their queue (true) or still held by the fair dispatcher (false). */
  dispatched?: boolean;
  limit: number;
}

/** The jobs of one lane that are not finished, for the fair dispatcher and the backlog cap. */
export interface LaneLoad {
  /** Queued, waiting in the task store for the dispatcher. */
  held: number;
  /** Queued and released to the lane's queue. */
  dispatched: number;
  running: number;
  /** Per tenant: dispatched + running. */
  inFlightByTenant: Record<string, number>;
  /** Tenants with held jobs. */
  heldTenants: string[];
  /** Per tenant with held jobs: when the lane last released one of its jobs (epoch ms); absent when never. */
  lastDispatchByTenant: Record<string, number>;
}

/** Sums per-tenant counts of a lane into its LaneLoad; every adapter reads the rows its own way. */
export function laneLoadOf(rows: readonly { tenantId: string; held: number; dispatched: number; running: number }[]): LaneLoad {
  const load: LaneLoad = { held: 0, dispatched: 0, running: 0, inFlightByTenant: {}, heldTenants: [], lastDispatchByTenant: {} };
  for (const r of rows) {
    load.held += r.held;
    load.dispatched += r.dispatched;
    load.running += r.running;
    load.inFlightByTenant[r.tenantId] = r.dispatched + r.running;
    if (r.held > 0) load.heldTenants.push(r.tenantId);
  }
  return load;
}

/** A delivery handed to one sender until `lease` (its nextAttemptAt while leased). */
export interface ClaimedDelivery extends WebhookDelivery {
  lease: string;
}

export type DeliveryOutcome = { state: 'delivered' } | { state: 'failed' } | { state: 'pending'; nextAttemptAt: Date };

export interface TaskStore {
  /** Stores a new job. With an idempotency key: the same key and request hash return the first job. */
  create(job: Job, options?: CreateOptions): Promise<CreateResult>;
  /** With tenantId, another tenant's job is not found. */
  get(id: string, tenantId?: string): Promise<Job | undefined>;
  list(query: ListJobsQuery): Promise<JobPage>;
  /**
   * Replaces the job only if its version (status, attempts, updatedAt) still equals `expected`, and applies
   * `effects` (usage settlement, webhook delivery) in the same atomic write. Returns the stored job or undefined.
   */
  compareAndSet(id: string, expected: JobVersion, next: Job, effects?: WriteEffects): Promise<Job | undefined>;
  /** Removes a finished job and its webhook deliveries, only if it is still at `expected` (retention). */
  deleteJob(id: string, expected: JobVersion): Promise<boolean>;
  /** Jobs for sweepers and repair passes, oldest deadline (then oldest change) first. */
  findDue(query: DueQuery): Promise<Job[]>;
  /** Jobs of the tenant that are queued or running. */
  countActive(tenantId: string): Promise<number>;
  /** The tenant's used and reserved cost units for `day` (YYYY-MM-DD, UTC). Never below zero. */
  getUsage(tenantId: string, day: string): Promise<number>;
  /** Counts of the lane's unfinished jobs. */
  laneLoad(lane: string): Promise<LaneLoad>;
  /** Each given tenant's first `perTenant` held jobs of the lane, by priority then age. */
  heldJobs(lane: string, tenantIds: readonly string[], perTenant: number): Promise<Job[]>;
  /** Takes up to `count` tokens (default 1) from the named bucket (libs/admission token-bucket), atomically across processes. */
  takeToken(key: string, params: BucketParams, now: Date, count?: number): Promise<TakeResult>;
  /** Drops idempotency keys past their expiry; returns how many. */
  pruneIdempotencyKeys(now: Date): Promise<number>;
  /** Leases up to `limit` pending deliveries that are due, for `leaseMs`; another sender cannot take them meanwhile. */
  claimWebhookDeliveries(now: Date, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /** Records an attempt and what follows it, only while the caller still holds the lease. */
  recordWebhookAttempt(id: string, lease: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean>;
  /** The job's deliveries, oldest first. */
  listWebhookDeliveries(jobId: string): Promise<WebhookDelivery[]>;
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
