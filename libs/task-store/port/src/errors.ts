export class IdempotencyConflictError extends Error {
  override readonly name = 'IdempotencyConflictError';
  constructor(readonly existingJobId: string) {
    super('the idempotency key was already used with a different request');
  }
}

export class DuplicateJobError extends Error {
  override readonly name = 'DuplicateJobError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} already exists`);
  }
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('the cursor is not one this API returned');
  }
}

/** A create refused because the tenant is at a limit the store checks atomically. */
export class LimitReachedError extends Error {
  override readonly name = 'LimitReachedError';
  constructor(
    readonly limit: 'concurrency' | 'budget',
    readonly usage: { activeJobs: number; budgetUsed: number },
  ) {
    super(`the tenant is at its ${limit} limit`);
  }
}
