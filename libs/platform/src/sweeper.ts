import { TERMINAL_STATUSES, versionOf, type Job } from '@gpu-jobs/job-contract';
import { applyEvent } from '@gpu-jobs/task-store';
import type { Ports } from './ports';

export interface SweepOptions {
  /** Finished jobs, their inputs and results are removed this long after they finished. */
  retentionMs: number;
  /** Jobs handled per kind per pass. */
  batch: number;
}

export interface SweepReport {
  expired: Job[];
  removed: number;
  keysPruned: number;
}

/**
 * One pass of the housekeeping every deployment needs: queued jobs past their deadline end `expired` (their
 * reservation refunded, their webhook sent, by the same transition as anywhere else); finished jobs past the
 * retention period are removed with their blobs; expired idempotency keys are dropped. Safe to run from
 * several processes at once: every change is conditional.
 */
export async function sweep(ports: Pick<Ports, 'store' | 'blobs'>, options: SweepOptions, now = new Date()): Promise<SweepReport> {
  const { store, blobs } = ports;
  const expired: Job[] = [];
  for (const job of await store.findDue({ status: 'queued', deadlineBefore: now, limit: options.batch })) {
    const r = await applyEvent(store, job.id, { type: 'expire', at: now });
    if (r.ok) expired.push(r.job);
  }
  let removed = 0;
  const finishedBefore = new Date(now.getTime() - options.retentionMs);
  for (const status of TERMINAL_STATUSES) {
    for (const job of await store.findDue({ status, updatedBefore: finishedBefore, limit: options.batch })) {
      // blobs first: if this pass dies midway, the job is still there and the next pass finishes the work
      for (const key of [job.inputRef, job.resultRef]) if (key) await blobs.delete(key);
      if (await store.deleteJob(job.id, versionOf(job))) removed += 1;
    }
  }
  const keysPruned = await store.pruneIdempotencyKeys(now);
  return { expired, removed, keysPruned };
}
