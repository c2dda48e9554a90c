import type { Job, JobMessage } from '@gpu-jobs/job-contract';
import type { Queue } from '@gpu-jobs/queue';
import type { TaskStore } from '@gpu-jobs/task-store';

/** The queue message for a job: references only, and the trace context of the request that submitted it. */
export function jobMessage(job: Job): JobMessage {
  const message: JobMessage = {
    jobId: job.id,
    tenantId: job.tenantId,
    model: job.model,
    lane: job.lane,
    inputRef: job.inputRef,
    priority: job.priority,
    attempt: job.attempts,
  };
  if (job.deadlineAt) message.deadline = job.deadlineAt;
  if (job.traceparent) message.traceparent = job.traceparent;
  return message;
}

/** Sends the job's message to its lane. The message id is the job id, so a second send is dropped as a duplicate. */
export async function dispatchJob(queue: Queue, job: Job): Promise<void> {
  await queue.send(job.lane, {
    messageId: job.id,
    body: jobMessage(job),
    applicationProperties: { tenantId: job.tenantId, model: job.model, priority: job.priority },
  });
}

export interface RedispatchOptions {
  /** A job queued for less than this may still be on its way; leave it. */
  olderThanMs: number;
  /** The queue's duplicate-detection window: only within it is a second send certain to be dropped. */
  duplicateWindowMs: number;
  limit?: number;
}

/**
 * The other half of "accepted means queued": the gateway (or the fair dispatcher) marks a job dispatched,
 * then sends its message; a crash between the two leaves a dispatched job without a message. This pass re-sends the message of every job that
 * was never started and is still inside the duplicate-detection window, so a message that did go out is
 * dropped as a duplicate and one that did not is sent now. Run at start-up and then periodically (more
 * often than the window).
 */
export async function redispatchStranded(store: TaskStore, queue: Queue, options: RedispatchOptions, now = Date.now()): Promise<Job[]> {
  const stranded = await store.findDue({
    status: 'queued',
    updatedBefore: new Date(now - options.olderThanMs),
    updatedAfter: new Date(now - options.duplicateWindowMs + 5_000),
    neverStarted: true, // a retried job's message still exists (it was abandoned, not lost)
    dispatched: true, // a held job has no message yet by design: the fair dispatcher sends it
    limit: options.limit ?? 500,
  });
  for (const job of stranded) await dispatchJob(queue, job);
  return stranded;
}
