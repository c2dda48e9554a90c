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
 * queue or running) relative to its weight, counting the places already given in this round; among equals,
 * the tenant served longest ago (`lastServed`, epoch ms; never served first), so tied tenants take turns
 * across rounds. A tenant's own jobs go by priority, then age. Priority never lets one tenant take another's
 * share. Pure.
 */
export function fairOrder<T extends HeldJob>(
  held: readonly T[],
  inFlight: Readonly<Record<string, number>>,
  weight: (tenantId: string) => number,
  slots: number,
  lastServed: Readonly<Record<string, number>> = {},
): T[] {
  const queues = new Map<string, T[]>();
  for (const job of held) {
    const q = queues.get(job.tenantId);
    if (q) q.push(job);
    else queues.set(job.tenantId, [job]);
  }
  for (const q of queues.values()) q.sort(byPriorityThenAge);
  const load = new Map([...queues.keys()].map((t) => [t, inFlight[t] ?? 0]));
  const served = new Map([...queues.keys()].map((t) => [t, lastServed[t] ?? -Infinity]));
  let round = Math.max(0, ...Object.values(lastServed).filter(Number.isFinite));
  const picked: T[] = [];
  while (picked.length < slots && queues.size > 0) {
    let best: string | undefined;
    for (const tenant of queues.keys()) {
      if (best === undefined || before(tenant, best)) best = tenant;
    }
    const q = queues.get(best as string) as T[];
    picked.push(q.shift() as T);
    load.set(best as string, (load.get(best as string) ?? 0) + 1);
    served.set(best as string, ++round);
    if (q.length === 0) queues.delete(best as string);
  }
  return picked;

  function before(a: string, b: string): boolean {
    const share = (t: string) => (load.get(t) ?? 0) / Math.max(weight(t), 1e-9);
    if (share(a) !== share(b)) return share(a) < share(b);
    const sa = served.get(a) ?? -Infinity;
    const sb = served.get(b) ?? -Infinity;
    if (sa !== sb) return sa < sb;
    return byAge((queues.get(a) as T[])[0] as T, (queues.get(b) as T[])[0] as T) < 0;
  }
}

function byAge(a: HeldJob, b: HeldJob): number {
  return a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function byPriorityThenAge(a: HeldJob, b: HeldJob): number {
  return PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || byAge(a, b);
}
