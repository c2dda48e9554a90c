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
  /** How many tokens were taken (0 when not allowed; up to the count asked for). */
  granted: number;
  state: BucketState;
  /** When not allowed: how long until a token is there. */
  retryAfterMs: number;
}

/**
 * Takes up to `count` whole tokens, at least one, if there is one. Pure: the store keeps `state` and applies the
 * result atomically. (A gateway leases several at once, so it does not write the bucket on every request.)
 */
export function takeToken(state: BucketState | undefined, params: BucketParams, nowMs: number, count = 1): TakeResult {
  const elapsed = state ? Math.max(0, nowMs - state.updatedMs) : 0;
  const tokens = state ? Math.min(params.capacity, state.tokens + (elapsed / 1000) * params.refillPerSecond) : params.capacity;
  if (tokens >= 1) {
    const granted = Math.min(Math.max(1, Math.floor(count)), Math.floor(tokens));
    return { allowed: true, granted, state: { tokens: tokens - granted, updatedMs: nowMs }, retryAfterMs: 0 };
  }
  return {
    allowed: false,
    granted: 0,
    state: { tokens, updatedMs: nowMs },
    retryAfterMs: Math.ceil(((1 - tokens) / params.refillPerSecond) * 1000),
  };
}

export function bucketFor(limits: { requestsPerMinute: number; burst?: number }): BucketParams {
  return { capacity: limits.burst ?? limits.requestsPerMinute, refillPerSecond: limits.requestsPerMinute / 60 };
}
