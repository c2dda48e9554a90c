/** A create check that keeps the day's budget within `limit` for a job of `cost`, as admission's usageLimitHit does. */
export const budget =
  (limit: number, cost: number) =>
  ({ budgetUsed }: { budgetUsed: number }): 'budget' | undefined =>
    budgetUsed + cost > limit ? 'budget' : undefined;
