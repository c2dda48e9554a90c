import { effectsOf, transition, versionOf, type Job, type JobEvent, type TransitionError } from '@gpu-jobs/job-contract';
import type { TaskStore } from './task-store';

export type ApplyResult =
  | { ok: true; job: Job; previous: Job }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'refused'; error: TransitionError; job: Job }
  | { ok: false; reason: 'stale'; job: Job };

export interface ApplyOptions {
  /** Another tenant's job is not found. */
  tenantId?: string;
  /**
   * Applies only while this holds for the stored job; otherwise `stale`. A worker passes "still my
   * attempt", so a worker that lost its lock can never write into the attempt that replaced it.
   */
  guard?: (job: Job) => boolean;
  /** Conflicting writes tolerated in a row before giving up. */
  maxTries?: number;
}

/**
 * The one way to move a job: read it, compute the next state with the transition table, and write it
 * conditionally. When another writer got there first, read again and decide again, so the outcome is
 * always a legal transition from the state that was actually stored. Its effects (budget settlement, webhook
 * delivery) are written in the same atomic update, so they happen exactly once.
 */
export async function applyEvent(store: TaskStore, id: string, event: JobEvent, options: ApplyOptions = {}): Promise<ApplyResult> {
  const maxTries = options.maxTries ?? 5;
  for (let attempt = 1; ; attempt++) {
    const current = await store.get(id, options.tenantId);
    if (!current) return { ok: false, reason: 'not_found' };
    if (options.guard && !options.guard(current)) return { ok: false, reason: 'stale', job: current };
    const next = transition(current, event);
    if (!next.ok) return { ok: false, reason: 'refused', error: next.error, job: current };
    const stored = await store.compareAndSet(id, versionOf(current), next.job, effectsOf(current, next.job));
    if (stored) return { ok: true, job: stored, previous: current };
    if (attempt >= maxTries) {
      throw new Error(`job ${id}: ${maxTries} conflicting writes in a row while applying ${event.type}`);
    }
  }
}
