import type { FastifyRequest } from 'fastify';
import { bucketFor, type BucketParams } from '@gpu-jobs/admission';
import type { TaskStore } from '@gpu-jobs/task-store';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';
import { ProblemError } from '../problem-error';

/** How long tokens leased from the shared bucket may be spent by this gateway; unspent ones are given up. */
const LEASE_MS = 1_000;

interface Lease {
  tokens: number;
  until: number;
  /** A lease being fetched: concurrent requests wait for it rather than each writing the bucket. */
  fetching?: Promise<void>;
  retryAfterMs: number;
  refusedUntil: number;
}

/**
 * Rate limits from a bucket shared by every gateway replica (in the task store), without a write per request:
 * a gateway leases a tenth of the bucket's capacity at a time (at most 100 tokens, at least one) and spends it
 * locally for up to a second. Replicas together never take more than the bucket holds; a small bucket (a burst
 * of 10 or less) is drawn one token per request, exactly as before.
 */
export class LeasedRateLimiter {
  private readonly leases = new Map<string, Lease>();

  constructor(
    private readonly store: TaskStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a request may go on now; when not, how long until it may. */
  async take(key: string, params: BucketParams): Promise<{ allowed: boolean; retryAfterMs: number }> {
    let lease = this.leases.get(key);
    if (!lease) this.leases.set(key, (lease = { tokens: 0, until: 0, retryAfterMs: 0, refusedUntil: 0 }));
    for (;;) {
      const t = this.now();
      if (lease.tokens >= 1 && t < lease.until) {
        lease.tokens -= 1;
        return { allowed: true, retryAfterMs: 0 };
      }
      if (t < lease.refusedUntil) return { allowed: false, retryAfterMs: lease.refusedUntil - t };
      if (!lease.fetching) lease.fetching = this.fetch(key, params, lease).finally(() => (lease.fetching = undefined));
      await lease.fetching;
      if (lease.tokens < 1 && this.now() < lease.refusedUntil) return { allowed: false, retryAfterMs: lease.retryAfterMs };
    }
  }

  private async fetch(key: string, params: BucketParams, lease: Lease): Promise<void> {
    const size = Math.max(1, Math.min(100, Math.floor(params.capacity / 10)));
    const r = await this.store.takeToken(key, params, new Date(this.now()), size);
    const t = this.now();
    if (r.allowed) {
      lease.tokens = r.granted;
      lease.until = t + LEASE_MS;
      lease.refusedUntil = 0;
    } else {
      lease.tokens = 0;
      lease.retryAfterMs = r.retryAfterMs;
      // refusals are answered locally until a token can be there, so a flood of refused requests writes nothing
      lease.refusedUntil = t + Math.min(r.retryAfterMs, LEASE_MS);
    }
  }
}

/** An onRequest hook after authenticate: one token per API request from the tenant's (shared) bucket. */
export function rateLimit(store: TaskStore, metrics: PlatformMetrics) {
  const limiter = new LeasedRateLimiter(store);
  return async (request: FastifyRequest): Promise<void> => {
    const { id, limits } = request.tenant;
    const r = await limiter.take(`rate:${id}`, bucketFor(limits));
    if (r.allowed) return;
    metrics.admissionRejects.inc({ reason: 'rate_limited' });
    throw new ProblemError('rate_limited', `more than ${limits.requestsPerMinute} requests per minute`, {
      retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
    });
  };
}
