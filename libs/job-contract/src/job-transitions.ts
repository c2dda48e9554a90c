import type { Job, JobError, JobProgress } from './job';
import { isTerminal, type JobStatus } from './job-status';

/** Everything that can happen to a job. `at` is when it happened, by the caller's clock. */
export type JobEvent =
  | { type: 'dispatch'; at: Date }
  | { type: 'start'; at: Date; workerId: string }
  | { type: 'progress'; at: Date; progress: JobProgress }
  | { type: 'succeed'; at: Date; result?: unknown; resultRef?: string; cost?: number }
  | { type: 'fail'; at: Date; error: JobError }
  | { type: 'cancel'; at: Date }
  | { type: 'confirmCancel'; at: Date }
  | { type: 'expire'; at: Date }
  | { type: 'deadLetter'; at: Date; reason: string; description?: string };

export type JobEventType = JobEvent['type'];

/**
 * The lifecycle of DESIGN section 3 as data: for each event, the states it may start from and
 * the states it may lead to. `transition` below is the only code that moves a job.
 */
export const TRANSITIONS: { readonly [E in JobEventType]: { from: readonly JobStatus[]; to: readonly JobStatus[] } } = {
  // a held job is released to its lane's queue by the fair dispatcher
  dispatch: { from: ['queued'], to: ['queued'] },
  start: { from: ['queued'], to: ['running'] },
  progress: { from: ['running'], to: ['running'] },
  succeed: { from: ['running'], to: ['succeeded'] },
  // retryable and attempts left -> queued again; otherwise failed
  fail: { from: ['running'], to: ['queued', 'failed'] },
  // queued -> cancelled at once; running -> still running with cancelRequested (best effort)
  cancel: { from: ['queued', 'running'], to: ['cancelled', 'running'] },
  confirmCancel: { from: ['running'], to: ['cancelled'] },
  expire: { from: ['queued'], to: ['expired'] },
  deadLetter: { from: ['queued', 'running'], to: ['failed'] },
};

export type TransitionErrorCode =
  'already_terminal' | 'illegal_transition' | 'deadline_passed' | 'not_due' | 'cancel_not_requested' | 'already_dispatched';

export class TransitionError extends Error {
  override readonly name = 'TransitionError';
  constructor(
    readonly code: TransitionErrorCode,
    readonly from: JobStatus,
    readonly event: JobEventType,
    message: string,
  ) {
    super(message);
  }
}

export type TransitionResult = { ok: true; job: Job } | { ok: false; error: TransitionError };

/**
 * The fields a conditional update compares: a write applies only if all still hold. Status and attempts
 * keep a late or duplicate worker from moving a job; updatedAt (which every transition moves strictly
 * forward) keeps two writers of the same state, such as a progress report and a cancel request, from
 * overwriting each other.
 */
export interface JobVersion {
  status: JobStatus;
  attempts: number;
  updatedAt: string;
}

export function versionOf(job: Pick<Job, 'status' | 'attempts' | 'updatedAt'>): JobVersion {
  return { status: job.status, attempts: job.attempts, updatedAt: job.updatedAt };
}

function refuse(job: Job, event: JobEvent, code: TransitionErrorCode, message: string): TransitionResult {
  return { ok: false, error: new TransitionError(code, job.status, event.type, message) };
}

/** Whether the job has a deadline and `at` is at or past it: such a job is never started. */
export function pastDeadline(job: Pick<Job, 'deadlineAt'>, at: Date): boolean {
  return job.deadlineAt !== undefined && at.getTime() >= Date.parse(job.deadlineAt);
}

/** A terminal state: the reservation is settled at `charged` (the actual cost on success, nothing otherwise). */
function finish(job: Job, at: string, patch: Partial<Job> & { status: JobStatus }, charged = 0): Job {
  const next: Job = { ...job, ...patch, updatedAt: at, finishedAt: at };
  if (job.cost) next.cost = { ...job.cost, charged };
  delete next.workerId;
  return next;
}

/** Given a job and an event, the next state of the job, or a typed error saying why not. Pure. */
export function transition(job: Job, event: JobEvent): TransitionResult {
  if (isTerminal(job.status)) {
    return refuse(job, event, 'already_terminal', `job is already ${job.status}`);
  }
  if (!TRANSITIONS[event.type].from.includes(job.status)) {
    return refuse(job, event, 'illegal_transition', `cannot ${event.type} a ${job.status} job`);
  }
  // strictly after the previous write, even when clocks tie or step back, so every version is distinct
  const at = new Date(Math.max(event.at.getTime(), Date.parse(job.updatedAt) + 1)).toISOString();

  switch (event.type) {
    case 'dispatch':
      if (job.dispatchedAt) return refuse(job, event, 'already_dispatched', 'the job was already released to its queue');
      return { ok: true, job: { ...job, dispatchedAt: at, updatedAt: at } };
    case 'start': {
      if (pastDeadline(job, event.at)) return refuse(job, event, 'deadline_passed', 'job is past its deadline');
      const next: Job = { ...job, status: 'running', attempts: job.attempts + 1, startedAt: at, updatedAt: at, workerId: event.workerId };
      delete next.progress;
      return { ok: true, job: next };
    }
    case 'progress':
      return { ok: true, job: { ...job, progress: event.progress, updatedAt: at } };
    case 'succeed': {
      const next = finish(job, at, { status: 'succeeded' }, event.cost ?? job.cost?.reserved ?? 0);
      if (event.result !== undefined) next.result = event.result;
      if (event.resultRef !== undefined) next.resultRef = event.resultRef;
      delete next.error;
      return { ok: true, job: next };
    }
    case 'fail': {
      const retry = event.error.retryable === true && job.attempts < job.maxAttempts && !job.cancelRequested;
      if (!retry) return { ok: true, job: finish(job, at, { status: 'failed', error: event.error }) };
      const next: Job = { ...job, status: 'queued', error: event.error, updatedAt: at };
      delete next.workerId;
      delete next.progress;
      return { ok: true, job: next };
    }
    case 'cancel':
      if (job.status === 'queued') return { ok: true, job: finish(job, at, { status: 'cancelled' }) };
      return { ok: true, job: { ...job, cancelRequested: true, updatedAt: at } };
    case 'confirmCancel':
      if (!job.cancelRequested) return refuse(job, event, 'cancel_not_requested', 'no cancel was requested');
      return { ok: true, job: finish(job, at, { status: 'cancelled' }) };
    case 'expire':
      if (!pastDeadline(job, event.at)) return refuse(job, event, 'not_due', 'job has no deadline or it has not passed');
      return {
        ok: true,
        job: finish(job, at, {
          status: 'expired',
          error: { code: 'deadline_exceeded', message: 'the job was not started before its deadline' },
        }),
      };
    case 'deadLetter': {
      const message = event.description ? `${event.reason}: ${event.description}` : event.reason;
      return { ok: true, job: finish(job, at, { status: 'failed', error: { code: 'dead_lettered', message } }) };
    }
  }
}
