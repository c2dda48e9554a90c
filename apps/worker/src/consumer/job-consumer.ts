import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { readAll, type BlobStore } from '@gpu-jobs/blob-store';
import { JobMessage, isTerminal, isValid, pastDeadline, type Job, type JobError, type JobEvent } from '@gpu-jobs/job-contract';
import type { LockedMessage, Queue } from '@gpu-jobs/queue';
import { LockLostError, nextRenewalDelayMs } from '@gpu-jobs/queue';

/** How long past its time limit a job's lock is still renewed, for the cancel to land and the outcome to be written. */
const LOCK_GRACE_MS = 30_000;
import { actualCost } from '@gpu-jobs/admission';
import type { ModelIndex } from '@gpu-jobs/runners';
import { applyEvent, type TaskStore } from '@gpu-jobs/task-store';
import type { Logger, PlatformMetrics } from '@gpu-jobs/telemetry';
import { InferenceError, type InferenceThread } from '../inference/inference-client';

export interface ConsumerDeps {
  queue: Queue;
  store: TaskStore;
  blobs: BlobStore;
  models: ModelIndex;
  log: Logger;
  metrics: PlatformMetrics;
  workerId: string;
  lane: string;
  resultInlineMaxBytes: number;
}

/** What happened to one message, for logs and tests. */
export type Outcome =
  'succeeded' | 'failed' | 'retried' | 'dead-lettered' | 'cancelled' | 'expired' | 'skipped' | 'lock-lost' | 'abandoned';

/**
 * Handles one delivered message: the job's whole attempt, from start to the settled message.
 * The message is completed only after the outcome is durably written (result blob, then the status CAS).
 */
export class JobConsumer {
  constructor(private readonly deps: ConsumerDeps) {}

  async handle(message: LockedMessage, thread: InferenceThread, stopSignal: AbortSignal): Promise<Outcome> {
    const { log } = this.deps;
    if (!isValid(JobMessage, message.body)) {
      await this.settle(message, 'deadLetter', {
        deadLetterReason: 'InvalidMessage',
        deadLetterErrorDescription: 'the body is not a job message',
      });
      return 'dead-lettered';
    }
    const body = message.body;
    const jobLog = log.child({ jobId: body.jobId, tenantId: body.tenantId, model: body.model, delivery: message.deliveryCount });
    let job = await this.deps.store.get(body.jobId);
    if (!job || isTerminal(job.status)) {
      jobLog.info({ status: job?.status ?? 'missing' }, 'nothing to do for this message');
      await this.settle(message, 'complete');
      return 'skipped';
    }

    if (job.status === 'running') {
      // the message came back, so whoever started this attempt lost its lock: count the attempt as lost
      const lost = await this.apply(job.id, {
        type: 'fail',
        at: new Date(),
        error: { code: 'worker_lost', message: 'the worker running this job stopped answering', retryable: true },
      });
      if (!lost) return this.settle(message, 'complete').then(() => 'skipped' as const);
      job = lost;
      if (job.status === 'failed') {
        await this.settle(message, 'deadLetter', {
          deadLetterReason: 'MaxAttemptsExceeded',
          deadLetterErrorDescription: `${job.attempts} attempts`,
        });
        return 'dead-lettered';
      }
    }

    if (pastDeadline(job, new Date())) {
      await this.apply(job.id, { type: 'expire', at: new Date() });
      await this.settle(message, 'complete');
      return 'expired';
    }

    const started = await this.apply(job.id, { type: 'start', at: new Date(), workerId: this.deps.workerId });
    if (!started) {
      await this.settle(message, 'complete');
      return 'skipped';
    }
    jobLog.info({ attempt: started.attempts }, 'job started');
    // from here on, every write is for this attempt only
    const mine = (j: Job) => j.attempts === started.attempts && j.workerId === this.deps.workerId;
    return this.runAttempt(message, started, thread, stopSignal, jobLog, mine);
  }

  private async runAttempt(
    message: LockedMessage,
    job: Job,
    thread: InferenceThread,
    stopSignal: AbortSignal,
    log: Logger,
    mine: (j: Job) => boolean,
  ): Promise<Outcome> {
    const { metrics, lane } = this.deps;
    const model = this.deps.models.get(job.model);
    const workDir = join(tmpdir(), 'gpu-jobs', randomUUID());
    const timeoutMs = (model?.limits.timeoutSeconds ?? 300) * 1000;
    const renewal = this.keepLock(message, log, Date.now() + timeoutMs + LOCK_GRACE_MS);
    let runId: number | undefined;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      requestStop();
    }, timeoutMs);
    // a stop (drain, timeout or the tenant's cancel) reaches the thread, which checks between pipeline stages
    let stopRequested = false;
    const requestStop = () => {
      stopRequested = true;
      if (runId !== undefined) thread.cancel(runId);
    };
    const onStop = () => requestStop();
    stopSignal.addEventListener('abort', onStop);
    const watching = new AbortController();
    void this.watchForCancel(job, requestStop, watching.signal);
    metrics.inFlightJobs.inc({ lane });
    try {
      await mkdir(workDir, { recursive: true });
      if (!model)
        throw new InferenceError({
          name: 'ModelNotLoaded',
          message: `model ${job.model} is not served by lane ${lane}`,
          code: 'model_unavailable',
        });
      const input = await readAll((await this.deps.blobs.get(job.inputRef)).body);
      let lastProgressAt = 0;
      const run = thread.run(job.model, input, (progress) => {
        const now = Date.now();
        if (now - lastProgressAt < 200 && progress.done !== progress.total) return; // at most five writes a second
        lastProgressAt = now;
        void this.apply(job.id, { type: 'progress', at: new Date(), progress }, mine).then((updated) => {
          if (updated?.cancelRequested) requestStop();
        });
      });
      runId = run.runId;
      if (stopRequested) thread.cancel(runId);
      const { result, seconds } = await run.done;
      metrics.inferenceDuration.observe({ model: job.model }, seconds);
      // Even with the lock lost, the result may still be ours to record: the guard decides.
      const event = await this.resultEvent(job, result, actualCost(model, seconds));
      const done = await this.apply(job.id, event, mine);
      await this.settle(message, 'complete');
      if (!done) {
        log.warn({ lockLost: renewal.lost() }, "the result was not recorded: the attempt is no longer this worker's");
        return 'lock-lost';
      }
      log.info({ seconds, status: done.status }, 'job finished');
      return 'succeeded';
    } catch (err) {
      return await this.afterError(err, message, job, stopSignal.aborted, timedOut, log, mine);
    } finally {
      clearTimeout(timer);
      watching.abort();
      stopSignal.removeEventListener('abort', onStop);
      renewal.stop();
      metrics.inFlightJobs.dec({ lane });
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async afterError(
    err: unknown,
    message: LockedMessage,
    job: Job,
    draining: boolean,
    timedOut: boolean,
    log: Logger,
    mine: (j: Job) => boolean,
  ): Promise<Outcome> {
    const failure = err instanceof InferenceError ? err : undefined;
    if (failure?.cancelled && draining) {
      // the worker is stopping: hand the job back with the attempt counted, so another worker takes it
      await this.apply(
        job.id,
        {
          type: 'fail',
          at: new Date(),
          error: { code: 'worker_draining', message: 'the worker stopped before the job finished', retryable: true },
        },
        mine,
      );
      await this.settle(message, 'abandon');
      return 'abandoned';
    }
    if (failure?.cancelled && !timedOut) {
      await this.apply(job.id, { type: 'confirmCancel', at: new Date() }, mine);
      await this.settle(message, 'complete');
      return 'cancelled';
    }
    const error: JobError = failure?.permanent
      ? { code: failure.detail.code as string, message: failure.message, retryable: false }
      : timedOut
        ? { code: 'timeout', message: 'the model did not finish within its time limit', retryable: true }
        : { code: 'worker_error', message: 'the worker failed while running the job', retryable: true };
    log.warn(
      { code: error.code, errorName: (err as Error)?.name, errorMessage: failure?.permanent ? error.message : (err as Error)?.message },
      'job attempt failed',
    );
    const after = await this.apply(job.id, { type: 'fail', at: new Date(), error }, mine);
    if (!after) {
      await this.settle(message, 'complete');
      return 'lock-lost';
    }
    if (after.status === 'queued') {
      await this.settle(message, 'abandon');
      return 'retried';
    }
    if (error.retryable) {
      await this.settle(message, 'deadLetter', {
        deadLetterReason: 'MaxAttemptsExceeded',
        deadLetterErrorDescription: `${error.code} after ${job.attempts} attempts`,
      });
      return 'dead-lettered';
    }
    await this.settle(message, 'complete');
    return 'failed';
  }

  /** The success event: the result inline when small, otherwise in the blob store with a reference; the actual cost. */
  private async resultEvent(job: Job, result: unknown, cost: number): Promise<JobEvent> {
    const json = Buffer.from(JSON.stringify(result));
    if (json.length <= this.deps.resultInlineMaxBytes) return { type: 'succeed', at: new Date(), result, cost };
    const key = `results/${job.tenantId}/${job.id}.json`;
    await this.deps.blobs.put(key, json, { contentType: 'application/json' });
    return { type: 'succeed', at: new Date(), resultRef: key, cost };
  }

  /**
   * Watches the job while it runs: a cancel request written by the gateway (any process) stops the run at
   * its next stage boundary, without waiting for the next progress report.
   */
  private async watchForCancel(job: Job, requestStop: () => void, signal: AbortSignal): Promise<void> {
    let seen = job.updatedAt;
    while (!signal.aborted) {
      const now = await this.deps.store.waitForJobChange(job.id, seen, 30_000, { signal }).catch(() => undefined);
      if (!now || signal.aborted) return;
      if (now.cancelRequested) return requestStop();
      seen = now.updatedAt;
    }
  }

  /** Applies an event; undefined when the job is gone or the event no longer applies. */
  private async apply(jobId: string, event: JobEvent, guard?: (j: Job) => boolean): Promise<Job | undefined> {
    const r = await applyEvent(this.deps.store, jobId, event, guard ? { guard } : {});
    if (!r.ok) return undefined;
    if (r.job.status !== r.previous.status) this.deps.metrics.jobsByStatus.inc({ model: r.job.model, status: r.job.status });
    return r.job;
  }

  /**
   * Renews the lock at half its remaining time until stopped, never past `stopAt` (the job's time limit plus a
   * grace period: a job that hangs past it gives its message back to the queue); remembers when it was lost.
   */
  private keepLock(message: LockedMessage, log: Logger, stopAt: number): { stop: () => void; lost: () => boolean } {
    let lost = false;
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      const wait = nextRenewalDelayMs(message.lockedUntil, Date.now(), { stopAt });
      if (wait === undefined) {
        log.warn({ lockedUntil: message.lockedUntil.toISOString() }, 'the job outlived its time limit; no more lock renewals');
        return;
      }
      timer = setTimeout(async () => {
        try {
          message.lockedUntil = await this.deps.queue.renewLock(message);
          schedule();
        } catch (err) {
          lost = true;
          log.warn({ errorName: (err as Error).name }, 'lost the message lock; another worker may take the job');
        }
      }, wait);
    };
    schedule();
    return { stop: () => clearTimeout(timer), lost: () => lost };
  }

  private async settle(
    message: LockedMessage,
    how: 'complete' | 'abandon' | 'deadLetter',
    reason?: { deadLetterReason: string; deadLetterErrorDescription?: string },
  ): Promise<void> {
    try {
      if (how === 'complete') await this.deps.queue.complete(message);
      else if (how === 'abandon') await this.deps.queue.abandon(message);
      else await this.deps.queue.deadLetter(message, reason ?? { deadLetterReason: 'Unknown' });
    } catch (err) {
      if (err instanceof LockLostError)
        this.deps.log.warn({ messageId: message.messageId }, `could not ${how} the message: the lock was lost`);
      else throw err;
    }
  }
}
