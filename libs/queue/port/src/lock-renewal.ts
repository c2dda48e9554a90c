export interface RenewalPolicy {
  /** Never renew past this time (epoch ms): the job's time limit. The lock then runs out and the message returns. */
  stopAt?: number;
  /** Shortest wait between renewals. */
  minDelayMs?: number;
}

/**
 * When to renew a peek-lock next: at half the time the lock has left (so one failed renewal still leaves
 * time for another), never sooner than minDelayMs, and not at all once the next renewal would start past
 * `stopAt`. Returns the delay in ms, or undefined to stop renewing. Pure; the worker schedules with it.
 */
export function nextRenewalDelayMs(lockedUntil: Date, now: number, policy: RenewalPolicy = {}): number | undefined {
  const delay = Math.max(policy.minDelayMs ?? 250, (lockedUntil.getTime() - now) / 2);
  if (policy.stopAt !== undefined && now + delay >= policy.stopAt) return undefined;
  return Math.round(delay);
}
