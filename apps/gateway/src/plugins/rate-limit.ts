import type { FastifyRequest } from 'fastify';
import { bucketFor } from '@gpu-jobs/admission';
import type { TaskStore } from '@gpu-jobs/task-store';
import type { PlatformMetrics } from '@gpu-jobs/telemetry';
import { ProblemError } from '../problem-error';

/**
 * An onRequest hook after authenticate: one token per API request from the tenant's bucket. The bucket lives
 * in the task store, so every gateway replica draws from the same one.
 */
export function rateLimit(store: TaskStore, metrics: PlatformMetrics) {
  return async (request: FastifyRequest): Promise<void> => {
    const { id, limits } = request.tenant;
    const r = await store.takeToken(`rate:${id}`, bucketFor(limits), new Date());
    if (r.allowed) return;
    metrics.admissionRejects.inc({ reason: 'rate_limited' });
    throw new ProblemError('rate_limited', `more than ${limits.requestsPerMinute} requests per minute`, {
      retryAfterSeconds: Math.max(1, Math.ceil(r.retryAfterMs / 1000)),
    });
  };
}
