import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Job } from './job';
import { JOB_STATUSES, isTerminal, type JobStatus } from './job-status';
import { effectsOf } from './job-effects';
import { TRANSITIONS, transition, type JobEvent, type JobEventType, type TransitionErrorCode } from './job-transitions';
import { isValid } from './validation';
import { Job as JobSchema } from './job';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

function job(overrides: Partial<Job> = {}): Job {
  return {
    id: 'j1',
    tenantId: 't1',
    model: 'ocr-en',
    lane: 'small-gpu',
    status: 'queued',
    priority: 'normal',
    attempts: 0,
    maxAttempts: 3,
    inputRef: 'inputs/j1',
    createdAt: T0.toISOString(),
    updatedAt: T0.toISOString(),
    ...overrides,
  };
}

const events: Record<JobEventType, JobEvent> = {
  dispatch: { type: 'dispatch', at: later(1) },
  start: { type: 'start', at: later(1), workerId: 'w1' },
  progress: { type: 'progress', at: later(2), progress: { stage: 'detection' } },
  succeed: { type: 'succeed', at: later(3), result: { text: 'hi' } },
  fail: { type: 'fail', at: later(3), error: { code: 'boom', message: 'boom', retryable: true } },
  cancel: { type: 'cancel', at: later(3) },
  confirmCancel: { type: 'confirmCancel', at: later(4) },
  expire: { type: 'expire', at: later(10_000) },
  deadLetter: { type: 'deadLetter', at: later(5), reason: 'MaxDeliveryCountExceeded' },
};

/** Expected outcome of every event from every state, for a job in its most ordinary shape. */
const expected: Record<JobStatus, Record<JobEventType, JobStatus | TransitionErrorCode>> = {
  queued: {
    dispatch: 'queued',
    start: 'running',
    progress: 'illegal_transition',
    succeed: 'illegal_transition',
    fail: 'illegal_transition',
    cancel: 'cancelled',
    confirmCancel: 'illegal_transition',
    expire: 'expired',
    deadLetter: 'failed',
  },
  running: {
    dispatch: 'illegal_transition',
    start: 'illegal_transition',
    progress: 'running',
    succeed: 'succeeded',
    fail: 'queued',
    cancel: 'running',
    confirmCancel: 'cancel_not_requested',
    expire: 'illegal_transition',
    deadLetter: 'failed',
  },
  succeeded: allRefused(),
  failed: allRefused(),
  cancelled: allRefused(),
  expired: allRefused(),
};

function allRefused(): Record<JobEventType, TransitionErrorCode> {
  return Object.fromEntries(Object.keys(TRANSITIONS).map((e) => [e, 'already_terminal'])) as Record<JobEventType, TransitionErrorCode>;
}

function from(status: JobStatus): Job {
  const deadlineAt = later(5_000).toISOString();
  return status === 'queued' ? job({ deadlineAt }) : job({ status, attempts: 1, deadlineAt, startedAt: T0.toISOString() });
}

describe('transition: every event from every state', () => {
  for (const status of JOB_STATUSES) {
    for (const type of Object.keys(TRANSITIONS) as JobEventType[]) {
      const want = expected[status][type];
      it(`${status} + ${type} -> ${want}`, () => {
        const r = transition(from(status), events[type]);
        if (r.ok) {
          expect(r.job.status).toBe(want);
          expect(TRANSITIONS[type].to).toContain(r.job.status);
          expect(isValid(JobSchema, r.job)).toBe(true);
        } else {
          expect(r.error.code).toBe(want);
          expect(r.error.from).toBe(status);
          expect(r.error.event).toBe(type);
        }
      });
    }
  }
});

describe('transition: details', () => {
  it('start counts the attempt, records the worker and the time', () => {
    const r = transition(job(), events.start);
    expect(r).toMatchObject({ ok: true, job: { status: 'running', attempts: 1, workerId: 'w1', startedAt: later(1).toISOString() } });
  });

  it('never starts a job past its deadline', () => {
    const r = transition(job({ deadlineAt: later(1).toISOString() }), events.start);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('deadline_passed');
  });

  it('expires only past the deadline', () => {
    const notDue = transition(job({ deadlineAt: later(60_000).toISOString() }), events.expire);
    expect(!notDue.ok && notDue.error.code).toBe('not_due');
    const noDeadline = transition(job(), events.expire);
    expect(!noDeadline.ok && noDeadline.error.code).toBe('not_due');
    const due = transition(job({ deadlineAt: later(1).toISOString() }), events.expire);
    expect(due).toMatchObject({
      ok: true,
      job: { status: 'expired', error: { code: 'deadline_exceeded' }, finishedAt: later(10_000).toISOString() },
    });
  });

  it('a retryable failure requeues while attempts remain, then fails', () => {
    const running = job({ status: 'running', attempts: 2, maxAttempts: 3, workerId: 'w1' });
    const retried = transition(running, events.fail);
    expect(retried).toMatchObject({ ok: true, job: { status: 'queued', attempts: 2, error: { code: 'boom' } } });
    if (retried.ok) expect(retried.job.workerId).toBeUndefined();
    const last = transition({ ...running, attempts: 3 }, events.fail);
    expect(last).toMatchObject({ ok: true, job: { status: 'failed', finishedAt: later(3).toISOString() } });
  });

  it('a non-retryable failure fails at once', () => {
    const r = transition(job({ status: 'running', attempts: 1 }), {
      ...events.fail,
      error: { code: 'input_invalid', message: 'bad', retryable: false },
    } as JobEvent);
    expect(r).toMatchObject({ ok: true, job: { status: 'failed', error: { code: 'input_invalid' } } });
  });

  it('cancel of a running job is recorded, and confirmed by the worker', () => {
    const requested = transition(job({ status: 'running', attempts: 1 }), events.cancel);
    expect(requested).toMatchObject({ ok: true, job: { status: 'running', cancelRequested: true } });
    if (!requested.ok) return;
    const confirmed = transition(requested.job, events.confirmCancel);
    expect(confirmed).toMatchObject({ ok: true, job: { status: 'cancelled' } });
    // a retryable failure after a cancel request does not requeue the job
    const failed = transition(requested.job, events.fail);
    expect(failed).toMatchObject({ ok: true, job: { status: 'failed' } });
  });

  it('dead-lettering keeps the reason', () => {
    const r = transition(job(), {
      type: 'deadLetter',
      at: later(1),
      reason: 'MaxDeliveryCountExceeded',
      description: 'delivered 10 times',
    });
    expect(r).toMatchObject({
      ok: true,
      job: { status: 'failed', error: { code: 'dead_lettered', message: 'MaxDeliveryCountExceeded: delivered 10 times' } },
    });
  });

  it('success stores the result once and clears an earlier error', () => {
    const r = transition(job({ status: 'running', attempts: 2, error: { code: 'x', message: 'x' } }), events.succeed);
    expect(r).toMatchObject({ ok: true, job: { status: 'succeeded', result: { text: 'hi' } } });
    if (r.ok) {
      expect(r.job.error).toBeUndefined();
      const again = transition(r.job, events.succeed);
      expect(!again.ok && again.error.code).toBe('already_terminal');
    }
  });

  it('moves updatedAt strictly forward, even when the event carries an older time', () => {
    const r = transition(job({ updatedAt: later(500).toISOString() }), events.start);
    expect(r).toMatchObject({ ok: true, job: { updatedAt: later(501).toISOString() } });
  });

  it('dispatch releases a held job once and keeps it queued', () => {
    const r = transition(job(), events.dispatch);
    expect(r).toMatchObject({ ok: true, job: { status: 'queued', dispatchedAt: later(1).toISOString() } });
    if (!r.ok) return;
    const again = transition(r.job, { type: 'dispatch', at: later(2) });
    expect(!again.ok && again.error.code).toBe('already_dispatched');
  });

  it('settles the reservation: the actual cost on success, nothing on any other end', () => {
    const cost = { day: '2026-01-01', reserved: 2 };
    const ok = transition(job({ status: 'running', attempts: 1, cost }), { ...events.succeed, cost: 0.5 } as JobEvent);
    expect(ok).toMatchObject({ ok: true, job: { cost: { reserved: 2, charged: 0.5 } } });
    const estimated = transition(job({ status: 'running', attempts: 1, cost }), events.succeed);
    expect(estimated).toMatchObject({ ok: true, job: { cost: { charged: 2 } } });
    const cancelled = transition(job({ cost }), events.cancel);
    expect(cancelled).toMatchObject({ ok: true, job: { status: 'cancelled', cost: { charged: 0 } } });
  });

  it('does not mutate its input', () => {
    const before = job();
    const copy = structuredClone(before);
    transition(before, events.start);
    expect(before).toEqual(copy);
  });
});

describe('transition: invariants over random histories', () => {
  const anyEvent = fc.oneof(
    fc.record({ type: fc.constant('dispatch' as const) }),
    fc.record({ type: fc.constant('start' as const), workerId: fc.constantFrom('w1', 'w2') }),
    fc.record({ type: fc.constant('progress' as const), progress: fc.record({ stage: fc.constant('s'), done: fc.nat(10) }) }),
    fc.record({ type: fc.constant('succeed' as const), result: fc.anything(), cost: fc.double({ min: 0, max: 10, noNaN: true }) }),
    fc.record({
      type: fc.constant('fail' as const),
      error: fc.record({ code: fc.constant('e'), message: fc.constant('e'), retryable: fc.boolean() }),
    }),
    fc.record({ type: fc.constantFrom('cancel' as const, 'confirmCancel' as const, 'expire' as const) }),
    fc.record({ type: fc.constant('deadLetter' as const), reason: fc.constant('r') }),
  );

  it('attempts never exceed maxAttempts, terminal states never change, time only moves forward', () => {
    fc.assert(
      fc.property(
        fc.array(anyEvent, { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat(100),
        (history, maxAttempts, deadlineStep) => {
          let current = job({
            maxAttempts,
            deadlineAt: later(deadlineStep * 10).toISOString(),
            cost: { day: '2026-01-01', reserved: 2 },
          });
          let terminalAt: Job | undefined;
          let settled = 0;
          history.forEach((e, i) => {
            const r = transition(current, { ...e, at: later(i + 1) } as JobEvent);
            if (terminalAt) {
              expect(r.ok).toBe(false);
              return;
            }
            if (!r.ok) return;
            expect(TRANSITIONS[e.type].from).toContain(current.status);
            expect(TRANSITIONS[e.type].to).toContain(r.job.status);
            expect(r.job.attempts).toBeLessThanOrEqual(maxAttempts);
            expect(r.job.attempts - current.attempts).toBeLessThanOrEqual(1);
            expect(Date.parse(r.job.updatedAt)).toBeGreaterThan(Date.parse(current.updatedAt));
            const usage = effectsOf(current, r.job).usage;
            if (usage) {
              settled += 1;
              // success settles at the actual cost; every other end refunds the whole reservation
              expect(usage.delta).toBe(r.job.status === 'succeeded' ? (e as { cost: number }).cost - 2 : -2);
            }
            if (r.job.status === 'running') expect(Date.parse(r.job.startedAt ?? '')).toBeLessThan(Date.parse(current.deadlineAt ?? ''));
            current = r.job;
            if (isTerminal(current.status)) {
              expect(current.finishedAt).toBeDefined();
              expect(settled).toBe(1);
              terminalAt = current;
            }
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});
