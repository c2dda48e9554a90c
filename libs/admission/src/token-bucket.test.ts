import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketFor, takeToken, type BucketState } from './token-bucket';

describe('takeToken', () => {
  const params = bucketFor({ requestsPerMinute: 60, burst: 3 });

  it('allows a burst of capacity, then one per refill interval', () => {
    let state: BucketState | undefined;
    const at = (ms: number) => {
      const r = takeToken(state, params, ms);
      state = r.state;
      return r;
    };
    expect([at(0), at(0), at(0)].every((r) => r.allowed)).toBe(true);
    const refused = at(0);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1000 });
    expect(at(500)).toMatchObject({ allowed: false, retryAfterMs: 500 });
    expect(at(1000).allowed).toBe(true);
    expect(at(1000).allowed).toBe(false);
  });

  it('never holds more than its capacity, however long it was idle', () => {
    const r = takeToken({ tokens: 0, updatedMs: 0 }, params, 3_600_000);
    expect(r.state.tokens).toBe(2);
  });

  it('over any history, allowed requests never exceed capacity + rate x elapsed time', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 200 }), (gaps) => {
        let state: BucketState | undefined;
        let now = 0;
        let allowed = 0;
        for (const gap of gaps) {
          now += gap;
          const r = takeToken(state, params, now);
          state = r.state;
          if (r.allowed) allowed += 1;
          else expect(r.retryAfterMs).toBeGreaterThan(0);
        }
        expect(allowed).toBeLessThanOrEqual(params.capacity + (now / 1000) * params.refillPerSecond + 1e-9);
      }),
    );
  });
});
