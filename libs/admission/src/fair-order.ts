import { PRIORITY_RANK, type Priority } from '@gpu-jobs/job-contract';

export interface HeldJob {
  id: string;
  tenantId: string;
  priority: Priority;
  createdAt: string;
}

/**
 * The order in which held jobs of one lane are released into its queue when `slots` places are free.
 * Max-min fair share: each place goes to the tenant with the fewest jobs in flight (queued in the lane's
 * queue or running) relative to its weight, counting the places already given in this round. A tenant's
 * own jobs go by priority, then age. Priority never lets one tenant take another's share. Pure.
 */
export function fairOrder<T extends HeldJob>(
  held: readonly T[],
  inFlight: Readonly<Record<string, number>>,
  weight: (tenantId: string) => number,
  slots: number,
): T[] {
  const queues = new Map<string, T[]>();
  for (const job of held) {
    const q = queues.get(job.tenantId);
    if (q) q.push(job);
    else queues.set(job.tenantId, [job]);
  }
  for (const q of queues.values()) q.sort(byPriorityThenAge);
  const load = new Map([...queues.keys()].map((t) => [t, inFlight[t] ?? 0]));
  const picked: T[] = [];
  while (picked.length < slots && queues.size > 0) {
    let best: string | undefined;
    let bestShare = Infinity;
    for (const [tenant, q] of queues) {
      const share = (load.get(tenant) ?? 0) / Math.max(weight(tenant), 1e-9);
      const head = q[0] as T;
      const bestHead = best === undefined ? undefined : (queues.get(best) as T[])[0];
      if (share < bestShare || (share === bestShare && bestHead && byAge(head, bestHead) < 0)) {
        best = tenant;
        bestShare = share;
      }
    }
    const q = queues.get(best as string) as T[];
    picked.push(q.shift() as T);
    load.set(best as string, (load.get(best as string) ?? 0) + 1);
    if (q.length === 0) queues.delete(best as string);
  }
  return picked;
}

function byAge(a: HeldJob, b: HeldJob): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function byPriorityThenAge(a: HeldJob, b: HeldJob): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || byAge(a, b);
}
