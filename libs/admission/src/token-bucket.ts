/** A token bucket: `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface BucketParams {
  capacity: number;
  refillPerSecond: number;
}

export interface BucketState {
  tokens: number;
  updatedMs: number;
}

export interface TakeResult {
  allowed: boolean;
  state: BucketState;
  /** When not allowed: how long until a token is there. */
  retryAfterMs: number;
}

/** Takes one token if there is one. Pure: the store keeps `state` and applies the result atomically. */
export function takeToken(state: BucketState | undefined, params: BucketParams, nowMs: number): TakeResult {
  const elapsed = state ? Math.max(0, nowMs - state.updatedMs) : 0;
  const tokens = state ? Math.min(params.capacity, state.tokens + (elapsed / 1000) * params.refillPerSecond) : params.capacity;
  if (tokens >= 1) return { allowed: true, state: { tokens: tokens - 1, updatedMs: nowMs }, retryAfterMs: 0 };
  return {
    allowed: false,
    state: { tokens, updatedMs: nowMs },
    retryAfterMs: Math.ceil(((1 - tokens) / params.refillPerSecond) * 1000),
  };
}

export function bucketFor(limits: { requestsPerMinute: number; burst?: number }): BucketParams {
  return { capacity: limits.burst ?? limits.requestsPerMinute, refillPerSecond: limits.requestsPerMinute / 60 };
}
