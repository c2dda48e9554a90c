import { describe, expect, it } from 'vitest';
import { retryDelayMs, shouldRetry } from './backoff';

const policy = { maxAttempts: 8, baseDelayMs: 1_000, maxDelayMs: 10_000 };

describe('retryDelayMs', () => {
  it('doubles per attempt within jitter bounds and stops at the cap', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1_000);
    expect(retryDelayMs(3, policy, () => 0)).toBe(2_000);
    expect(retryDelayMs(3, policy, () => 1)).toBe(4_000);
    expect(retryDelayMs(20, policy, () => 1)).toBe(10_000);
    for (let n = 1; n < 12; n++) {
      const d = retryDelayMs(n, policy);
      const step = Math.min(10_000, 1_000 * 2 ** (n - 1));
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });

  it('retries no answer, 408, 429 and 5xx only', () => {
    expect([undefined, 408, 429, 500, 503].map(shouldRetry)).toEqual([true, true, true, true, true]);
    expect([200, 204, 301, 400, 401, 404, 410].map(shouldRetry)).toEqual([false, false, false, false, false, false, false]);
  });
});
