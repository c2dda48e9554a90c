import { takeToken, type BucketParams, type BucketState } from '@gpu-jobs/admission';
import type { TaskStore } from '@gpu-jobs/task-store';
import { describe, expect, it } from 'vitest';
import { LeasedRateLimiter } from './rate-limit';

/** A shared bucket as the task store keeps it (the same pure function), counting the writes. */
function sharedBucket() {
  let state: BucketState | undefined;
  const store = {
    writes: 0,
    async takeToken(_key: string, params: BucketParams, now: Date, count = 1) {
      store.writes += 1;
      const r = takeToken(state, params, now.getTime(), count);
      state = r.state;
      return r;
    },
  };
  return store;
}

describe('leased rate limiting', () => {
  it('spends leased tokens locally: a write per lease, not per request', async () => {
    const bucket = sharedBucket();
    const limiter = new LeasedRateLimiter(bucket as unknown as TaskStore);
    const params = { capacity: 6_000, refillPerSecond: 100 };
    const results = await Promise.all(Array.from({ length: 1_000 }, () => limiter.take('rate:a', params)));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(bucket.writes).toBe(10); // leases of 100
  });

  it('replicas sharing a bucket never take more than it holds, and refusals write nothing more', async () => {
    const bucket = sharedBucket();
    const now = () => 1_000_000;
    const replicas = [
      new LeasedRateLimiter(bucket as unknown as TaskStore, now),
      new LeasedRateLimiter(bucket as unknown as TaskStore, now),
    ];
    const params = { capacity: 50, refillPerSecond: 0.001 };
    let allowed = 0;
    for (let i = 0; i < 200; i++) if ((await (replicas[i % 2] as LeasedRateLimiter).take('rate:b', params)).allowed) allowed += 1;
    expect(allowed).toBe(50);
    const writes = bucket.writes;
    for (let i = 0; i < 200; i++) expect((await (replicas[i % 2] as LeasedRateLimiter).take('rate:b', params)).allowed).toBe(false);
    expect(bucket.writes - writes).toBeLessThanOrEqual(2); // one refusal each, then answered locally
  });

  it('a small bucket is drawn one token per request, exactly', async () => {
    const bucket = sharedBucket();
    const limiter = new LeasedRateLimiter(bucket as unknown as TaskStore);
    const params = { capacity: 3, refillPerSecond: 1 / 60 };
    const results: boolean[] = [];
    for (let i = 0; i < 5; i++) results.push((await limiter.take('rate:c', params)).allowed);
    expect(results).toEqual([true, true, true, false, false]);
  });
});
