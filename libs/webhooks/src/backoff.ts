export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 8, baseDelayMs: 5_000, maxDelayMs: 60 * 60_000 };

/**
 * Delay before the next attempt after `attemptsMade` failed ones: exponential (base x 2^(n-1), capped) with
 * "equal jitter" (half fixed, half random), so retries spread out but never come sooner than half the step.
 */
export function retryDelayMs(attemptsMade: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** Whether an answer means "try again later": no answer, 408, 429 and 5xx. Other 4xx are final. */
export function shouldRetry(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}
