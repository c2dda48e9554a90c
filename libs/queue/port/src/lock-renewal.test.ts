import { describe, expect, it } from 'vitest';
import { nextRenewalDelayMs } from './lock-renewal';

describe('nextRenewalDelayMs', () => {
  const now = 1_000_000;
  it('renews at half the remaining lock', () => {
    expect(nextRenewalDelayMs(new Date(now + 60_000), now)).toBe(30_000);
    expect(nextRenewalDelayMs(new Date(now + 5_000), now)).toBe(2_500);
  });

  it('never spins: at least minDelayMs, even for a lock about to run out or already gone', () => {
    expect(nextRenewalDelayMs(new Date(now + 100), now)).toBe(250);
    expect(nextRenewalDelayMs(new Date(now - 5_000), now, { minDelayMs: 1_000 })).toBe(1_000);
  });

  it("stops at the job's time limit, so a hung job's message returns to the queue", () => {
    expect(nextRenewalDelayMs(new Date(now + 60_000), now, { stopAt: now + 40_000 })).toBe(30_000);
    expect(nextRenewalDelayMs(new Date(now + 60_000), now, { stopAt: now + 30_000 })).toBeUndefined();
    expect(nextRenewalDelayMs(new Date(now + 60_000), now + 35_000, { stopAt: now + 40_000 })).toBeUndefined();
  });
});
