import { fileURLToPath } from 'node:url';
import { isTerminal, versionOf, type Job } from '@gpu-jobs/job-contract';
import { makeTempDir, releaseTogether, TsChild } from '@gpu-jobs/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyEvent } from '../apply-event';
import { DuplicateJobError, IdempotencyConflictError, InvalidCursorError, LimitReachedError } from '../errors';
import type { TaskStore } from '../task-store';
import { budget } from './budget-check';
import { sampleJob } from './sample-job';
import { loadTaskStoreFactory, type TaskStoreFactory } from './task-store-factory';

export interface TaskStoreContractOptions {
  name: string;
  /** Absolute path of the module whose default export is a TaskStoreFactory. */
  factoryModule: string;
  /** When set, the suite is skipped and this reason printed once. */
  skipReason?: string;
}

const CHILD = fileURLToPath(new URL('./task-store-child.ts', import.meta.url));
const hour = 3_600_000;

/** The behaviour every TaskStore adapter must have, written once. */
export function describeTaskStoreContract(options: TaskStoreContractOptions): void {
  if (options.skipReason) {
    describe.skip(`TaskStore contract: ${options.name}`, () => it('skipped', () => undefined));
    console.warn(`[contract] SKIPPED TaskStore contract for ${options.name}: ${options.skipReason}`);
    return;
  }

  describe(`TaskStore contract: ${options.name}`, () => {
    let dir: ReturnType<typeof makeTempDir>;
    let factory: TaskStoreFactory;
    let store: TaskStore;
    let tenant: string;
    const children: TsChild[] = [];
    const job = (overrides: Partial<Job> = {}) => sampleJob({ tenantId: tenant, ...overrides });

    beforeAll(async () => {
      factory = await loadTaskStoreFactory(options.factoryModule);
    });
    beforeEach(async () => {
      dir = makeTempDir('task-store-contract-');
      store = await factory({ dataDir: dir.path });
      tenant = `tenant-${Math.random().toString(36).slice(2, 10)}`;
    });
    afterEach(async () => {
      await Promise.all(children.splice(0).map((c) => c.stop()));
      await store.close();
      dir.remove();
    });
    afterAll(() => undefined);

    it('creates and reads a job, scoped to its tenant', async () => {
      const j = job({ metadata: { customer: 'x' }, deadlineAt: new Date(Date.now() + hour).toISOString() });
      expect(await store.create(j)).toEqual({ job: j, created: true });
      expect(await store.get(j.id)).toEqual(j);
      expect(await store.get(j.id, tenant)).toEqual(j);
      expect(await store.get(j.id, 'someone-else')).toBeUndefined();
      expect(await store.get('no-such-job')).toBeUndefined();
      await expect(store.create(j)).rejects.toBeInstanceOf(DuplicateJobError);
    });

    it('lists newest first with cursor pagination and filters', async () => {
      const jobs: Job[] = [];
      for (let i = 0; i < 7; i++) jobs.push(job({ model: i % 2 ? 'ocr-en' : 'embed', status: i < 2 ? 'succeeded' : 'queued' }));
      await store.create(sampleJob({ tenantId: 'other-tenant' }));
      for (const j of jobs) await store.create(j);
      const newestFirst = [...jobs].reverse().map((j) => j.id);

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ tenantId: tenant, limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items.map((j) => j.id));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(seen).toEqual(newestFirst);
      expect(pages).toBe(3);

      const queuedOcr = await store.list({ tenantId: tenant, limit: 10, status: 'queued', model: 'ocr-en' });
      expect(queuedOcr.items.map((j) => j.id)).toEqual(
        newestFirst.filter((id) => {
          const j = jobs.find((x) => x.id === id) as Job;
          return j.status === 'queued' && j.model === 'ocr-en';
        }),
      );
      expect(queuedOcr.nextCursor).toBeUndefined();
      await expect(store.list({ tenantId: tenant, limit: 3, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    });

    it('compare-and-set applies only to the expected version', async () => {
      const j = job();
      await store.create(j);
      const running: Job = { ...j, status: 'running', attempts: 1, updatedAt: new Date(Date.parse(j.updatedAt) + 1).toISOString() };
      expect(await store.compareAndSet(j.id, { status: 'running', attempts: 0, updatedAt: j.updatedAt }, running)).toBeUndefined();
      expect(await store.compareAndSet(j.id, { status: 'queued', attempts: 1, updatedAt: j.updatedAt }, running)).toBeUndefined();
      expect(await store.compareAndSet(j.id, { status: 'queued', attempts: 0, updatedAt: 'x' }, running)).toBeUndefined();
      expect(await store.get(j.id)).toEqual(j);
      expect(await store.compareAndSet(j.id, { status: 'queued', attempts: 0, updatedAt: j.updatedAt }, running)).toEqual(running);
      expect(await store.get(j.id)).toEqual(running);
      expect(
        await store.compareAndSet('missing', { status: 'queued', attempts: 0, updatedAt: j.updatedAt }, { ...running, id: 'missing' }),
      ).toBeUndefined();
    });

    it('a late or duplicate writer can never move a finished job or write a second result', async () => {
      const j = job();
      await store.create(j);
      const started = await applyEvent(store, j.id, { type: 'start', at: new Date(), workerId: 'w1' });
      expect(started.ok).toBe(true);
      // a second delivery of the same message, read before the first worker finished
      const stale = (await store.get(j.id)) as Job;
      const first = await applyEvent(store, j.id, { type: 'succeed', at: new Date(), result: { text: 'first' } });
      expect(first).toMatchObject({ ok: true, job: { status: 'succeeded', result: { text: 'first' } } });
      const late = await store.compareAndSet(
        j.id,
        { status: stale.status, attempts: stale.attempts, updatedAt: stale.updatedAt },
        { ...stale, status: 'succeeded', result: { text: 'second' } },
      );
      expect(late).toBeUndefined();
      const again = await applyEvent(store, j.id, { type: 'succeed', at: new Date(), result: { text: 'second' } });
      expect(again).toMatchObject({ ok: false, reason: 'refused' });
      expect((await store.get(j.id))?.result).toEqual({ text: 'first' });
    });

    it('a guarded writer cannot touch an attempt that is not its own', async () => {
      const j = job();
      await store.create(j);
      const first = await applyEvent(store, j.id, { type: 'start', at: new Date(), workerId: 'w1' });
      const mine = (x: Job) => x.attempts === (first.ok ? first.job.attempts : -1) && x.workerId === 'w1';
      await applyEvent(store, j.id, { type: 'fail', at: new Date(), error: { code: 'worker_lost', message: 'lost', retryable: true } });
      await applyEvent(store, j.id, { type: 'start', at: new Date(), workerId: 'w2' });
      const late = await applyEvent(store, j.id, { type: 'succeed', at: new Date(), result: 'late' }, { guard: mine });
      expect(late).toMatchObject({ ok: false, reason: 'stale' });
      expect(await store.get(j.id)).toMatchObject({ status: 'running', attempts: 2, workerId: 'w2' });
    });

    it('two writers of the same state do not overwrite each other', async () => {
      const j = job();
      await store.create(j);
      await applyEvent(store, j.id, { type: 'start', at: new Date(), workerId: 'w1' });
      await Promise.all([
        applyEvent(store, j.id, { type: 'progress', at: new Date(), progress: { stage: 'detection' } }),
        applyEvent(store, j.id, { type: 'cancel', at: new Date() }),
      ]);
      expect(await store.get(j.id)).toMatchObject({ status: 'running', cancelRequested: true, progress: { stage: 'detection' } });
    });

    it('idempotency keys: same request -> same job, different request -> conflict, per tenant, until expiry', async () => {
      const expiresAt = new Date(Date.now() + hour);
      const a = job({ idempotencyKey: 'key-1' });
      expect(await store.create(a, { idempotency: { requestHash: 'h1', expiresAt } })).toMatchObject({ created: true, job: { id: a.id } });
      const retry = job({ idempotencyKey: 'key-1' });
      expect(await store.create(retry, { idempotency: { requestHash: 'h1', expiresAt } })).toEqual({ created: false, job: a });
      expect(await store.get(retry.id)).toBeUndefined();
      await expect(
        store.create(job({ idempotencyKey: 'key-1' }), { idempotency: { requestHash: 'h2', expiresAt } }),
      ).rejects.toBeInstanceOf(IdempotencyConflictError);
      const otherTenant = sampleJob({ tenantId: `${tenant}-2`, idempotencyKey: 'key-1' });
      expect(await store.create(otherTenant, { idempotency: { requestHash: 'h2', expiresAt } })).toMatchObject({ created: true });

      const old = job({ idempotencyKey: 'key-old' });
      await store.create(old, { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() - 1) } });
      const fresh = job({ idempotencyKey: 'key-old' });
      expect(await store.create(fresh, { idempotency: { requestHash: 'other', expiresAt } })).toMatchObject({
        created: true,
        job: { id: fresh.id },
      });
    });

    it('concurrent creates with one idempotency key make one job', async () => {
      const expiresAt = new Date(Date.now() + hour);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => store.create(job({ idempotencyKey: 'same' }), { idempotency: { requestHash: 'h', expiresAt } })),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
    });

    it('counts active jobs per tenant and finds due jobs for sweepers', async () => {
      const now = Date.now();
      const overdue = job({ deadlineAt: new Date(now - 1_000).toISOString() });
      const later = job({ deadlineAt: new Date(now + hour).toISOString() });
      const done = job({ status: 'succeeded', deadlineAt: new Date(now - 1_000).toISOString() });
      for (const j of [overdue, later, done, job({ status: 'running', attempts: 1 })]) await store.create(j);
      expect(await store.countActive(tenant)).toBe(3);
      expect(await store.countActive('nobody')).toBe(0);
      const due = await store.findDue({ status: 'queued', deadlineBefore: new Date(now), limit: 10 });
      expect(due.map((j) => j.id)).toEqual([overdue.id]);
      const stale = await store.findDue({ status: 'queued', updatedBefore: new Date('2100-01-01'), limit: 10 });
      expect(stale.map((j) => j.id).sort()).toEqual([overdue.id, later.id].sort());
      const none = await store.findDue({
        status: 'queued',
        updatedBefore: new Date('2100-01-01'),
        updatedAfter: new Date('2099-01-01'),
        limit: 10,
      });
      expect(none).toEqual([]);
      const fresh = await store.findDue({ status: 'queued', neverStarted: true, limit: 10 });
      expect(fresh.map((j) => j.id).sort()).toEqual([overdue.id, later.id].sort());
    });

    it('usage: reserved at create within the budget, settled once with the final transition', async () => {
      const cost = (reserved: number) => ({ day: '2026-01-01', reserved });
      const a = job({ cost: cost(6) });
      await store.create(a, { check: budget(10, 6) });
      await expect(store.create(job({ cost: cost(5) }), { check: budget(10, 5) })).rejects.toMatchObject({
        name: 'LimitReachedError',
        limit: 'budget',
        usage: { budgetUsed: 6 },
      });
      const b = job({ cost: cost(4) });
      await store.create(b, { check: budget(10, 4) });
      expect(await store.getUsage(tenant, '2026-01-01')).toBe(10);
      // a succeeds at an actual cost of 1 (5 back); b is cancelled (4 back)
      await applyEvent(store, a.id, { type: 'start', at: new Date(), workerId: 'w' });
      await applyEvent(store, a.id, { type: 'succeed', at: new Date(), result: 1, cost: 1 });
      await applyEvent(store, b.id, { type: 'cancel', at: new Date() });
      expect(await store.getUsage(tenant, '2026-01-01')).toBe(1);
      // a second terminal write is refused, so nothing is settled twice
      expect(await applyEvent(store, b.id, { type: 'cancel', at: new Date() })).toMatchObject({ ok: false });
      expect(await store.getUsage(tenant, '2026-01-01')).toBe(1);
      expect(await store.getUsage('nobody', '2026-01-01')).toBe(0);
    });

    it('concurrent creates never pass the budget or the concurrency limit together', async () => {
      const attempts = await Promise.allSettled(
        Array.from({ length: 30 }, () => store.create(job({ cost: { day: '2026-01-03', reserved: 1 } }), { check: budget(20, 1) })),
      );
      expect(attempts.filter((r) => r.status === 'fulfilled')).toHaveLength(20);
      expect(await store.getUsage(tenant, '2026-01-03')).toBe(20);
      const capped = await Promise.allSettled(
        Array.from({ length: 10 }, () =>
          store.create(job(), { check: ({ activeJobs }) => (activeJobs >= 25 ? 'concurrency' : undefined) }),
        ),
      );
      expect(capped.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
      const refused = capped.find((r) => r.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(LimitReachedError);
      expect(await store.countActive(tenant)).toBe(25);
    });

    it('records a webhook delivery with the transition, and leases it to one sender at a time', async () => {
      const j = job({ webhook: { url: 'https://example.com/hook' } });
      await store.create(j);
      await applyEvent(store, j.id, { type: 'cancel', at: new Date() });
      const [d] = await store.listWebhookDeliveries(j.id);
      expect(d).toMatchObject({ id: `${j.id}.cancelled.0`, type: 'job.cancelled', state: 'pending', attempts: 0, history: [] });
      const now = new Date(Date.parse(d!.createdAt) + 10);
      const claimed = (await store.claimWebhookDeliveries(now, 100, 30_000)).filter((c) => c.jobId === j.id);
      expect(claimed).toHaveLength(1);
      expect((await store.claimWebhookDeliveries(now, 100, 30_000)).filter((c) => c.jobId === j.id)).toHaveLength(0);
      const lease = claimed[0]!.lease;
      const attempt = { at: now.toISOString(), status: 500, durationMs: 3 };
      const retryAt = new Date(now.getTime() + 1_000);
      expect(await store.recordWebhookAttempt(d!.id, 'not-the-lease', attempt, { state: 'delivered' })).toBe(false);
      expect(await store.recordWebhookAttempt(d!.id, lease, attempt, { state: 'pending', nextAttemptAt: retryAt })).toBe(true);
      expect(await store.recordWebhookAttempt(d!.id, lease, attempt, { state: 'delivered' })).toBe(false);
      expect(await store.claimWebhookDeliveries(now, 100, 30_000)).toEqual([]);
      const again = (await store.claimWebhookDeliveries(retryAt, 100, 30_000)).filter((c) => c.jobId === j.id);
      expect(again).toHaveLength(1);
      await store.recordWebhookAttempt(d!.id, again[0]!.lease, { ...attempt, status: 204 }, { state: 'delivered' });
      expect(await store.listWebhookDeliveries(j.id)).toEqual([
        expect.objectContaining({ state: 'delivered', attempts: 2, history: [attempt, { ...attempt, status: 204 }] }),
      ]);
    });

    it('lane load and held jobs for the fair dispatcher', async () => {
      const lane = `lane-${tenant}`;
      const other = `${tenant}-b`;
      const held = [job({ lane, priority: 'low' }), job({ lane }), job({ lane, priority: 'high' }), sampleJob({ lane, tenantId: other })];
      for (const j of held) await store.create(j);
      await store.create(job({ lane, dispatchedAt: new Date().toISOString() }));
      await store.create(job({ lane, status: 'running', attempts: 1, dispatchedAt: new Date().toISOString() }));
      const load = await store.laneLoad(lane);
      expect(load).toMatchObject({ held: 4, dispatched: 1, running: 1, inFlightByTenant: { [tenant]: 2, [other]: 0 } });
      expect([...load.heldTenants].sort()).toEqual([tenant, other].sort());
      const first = await store.heldJobs(lane, [tenant, other], 2);
      expect(first.map((j) => j.id)).toEqual([held[2]!.id, held[1]!.id, held[3]!.id]);
      const dispatched = await applyEvent(store, held[2]!.id, { type: 'dispatch', at: new Date() });
      expect(dispatched.ok).toBe(true);
      const after = await store.laneLoad(lane);
      expect(after).toMatchObject({ held: 3, dispatched: 2 });
      expect(after.lastDispatchByTenant[tenant]).toBe(Date.parse(dispatched.ok ? (dispatched.job.dispatchedAt as string) : ''));
      expect(after.lastDispatchByTenant[other]).toBeUndefined();
      expect((await store.findDue({ status: 'queued', dispatched: false, limit: 10 })).map((j) => j.id)).not.toContain(held[2]!.id);
      expect((await store.findDue({ status: 'queued', dispatched: true, limit: 100 })).map((j) => j.id)).toContain(held[2]!.id);
    });

    it('token buckets are shared by every client of the store', async () => {
      const params = { capacity: 5, refillPerSecond: 0.001 };
      const now = new Date();
      const other = await factory({ dataDir: dir.path });
      try {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 ? other : store).takeToken(`rate:${tenant}`, params, now)),
        );
        expect(results.filter((r) => r.allowed)).toHaveLength(5);
        expect(results.find((r) => !r.allowed)?.retryAfterMs).toBeGreaterThan(0);
        expect((await store.takeToken(`rate:${tenant}-x`, params, now)).allowed).toBe(true);
      } finally {
        await other.close();
      }
    });

    it('retention deletes a finished job and its deliveries, only at the expected version', async () => {
      const j = job({ webhook: { url: 'https://example.com/hook' } });
      await store.create(j);
      const done = await applyEvent(store, j.id, { type: 'cancel', at: new Date() });
      if (!done.ok) throw new Error('cancel failed');
      expect(await store.deleteJob(j.id, { ...versionOf(done.job), updatedAt: j.updatedAt })).toBe(false);
      expect(await store.deleteJob(j.id, versionOf(done.job))).toBe(true);
      expect(await store.get(j.id)).toBeUndefined();
      expect(await store.listWebhookDeliveries(j.id)).toEqual([]);
      expect(await store.deleteJob(j.id, versionOf(done.job))).toBe(false);
    });

    it('prunes expired idempotency keys', async () => {
      await store.create(job({ idempotencyKey: 'a' }), { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() - 1) } });
      await store.create(job({ idempotencyKey: 'b' }), { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() + hour) } });
      expect(await store.pruneIdempotencyKeys(new Date())).toBeGreaterThanOrEqual(1);
      expect(await store.pruneIdempotencyKeys(new Date())).toBe(0);
    });

    it('waitForJobChange wakes on a write by another client, and otherwise returns at its timeout', async () => {
      const j = job();
      await store.create(j);
      const other = await factory({ dataDir: dir.path });
      try {
        let started = Date.now();
        expect(await store.waitForJobChange(j.id, j.updatedAt, 150)).toEqual(j);
        expect(Date.now() - started).toBeGreaterThanOrEqual(100);
        expect(await store.waitForJobChange(j.id, j.updatedAt, 150, { tenantId: 'someone-else' })).toBeUndefined();
        started = Date.now();
        const waiting = store.waitForJobChange(j.id, j.updatedAt, 10_000);
        setTimeout(() => void applyEvent(other, j.id, { type: 'start', at: new Date(), workerId: 'w' }), 100);
        expect(await waiting).toMatchObject({ status: 'running' });
        expect(Date.now() - started).toBeLessThan(5_000);
        // already changed: returns at once
        started = Date.now();
        expect(await store.waitForJobChange(j.id, j.updatedAt, 10_000)).toMatchObject({ status: 'running' });
        expect(Date.now() - started).toBeLessThan(1_000);
      } finally {
        await other.close();
      }
    });

    it('open waits cost nothing while their jobs do not change: one reading of what changed per write, not one per waiter', async () => {
      const waited = Array.from({ length: 200 }, () => job());
      for (const j of waited) await store.create(j);
      const busy = job();
      await store.create(busy);
      const other = await factory({ dataDir: dir.path });
      const reads = vi.spyOn(store, 'get');
      const stop = new AbortController();
      try {
        const waits = waited.map((j) => store.waitForJobChange(j.id, j.updatedAt, 120_000, { signal: stop.signal }));
        // every waiter has read its job once (the barrier: a state the test can see, not a sleep)
        for (const end = Date.now() + 60_000; reads.mock.calls.length < waited.length && Date.now() < end;)
          await new Promise((r) => setTimeout(r, 20));
        expect(reads.mock.calls.length).toBe(waited.length);
        // twenty writes to a job nobody waits for, by another client
        let version = busy;
        for (let i = 0; i < 20; i++) {
          const r = await applyEvent(
            other,
            version.id,
            i === 0 ? { type: 'start', at: new Date(), workerId: 'w' } : { type: 'progress', at: new Date(), progress: { stage: `s${i}` } },
          );
          if (r.ok) version = r.job;
        }
        // one job that is waited for changes: its waiter, and only it, reads again and returns
        await applyEvent(other, (waited[7] as Job).id, { type: 'start', at: new Date(), workerId: 'w' });
        expect(await waits[7]).toMatchObject({ status: 'running' });
        // the 200 waiters did not read their jobs again for the 21 writes (the old loop: 200 x 21 reads)
        expect(reads.mock.calls.length).toBeLessThanOrEqual(waited.length + 5);
      } finally {
        stop.abort();
        reads.mockRestore();
        await other.close();
      }
    }, 180_000);

    it('keeps everything across close and reopen', async () => {
      const j = job({ idempotencyKey: 'k', cost: { day: '2026-01-01', reserved: 2 } });
      await store.create(j, { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() + hour) } });
      await store.close();
      store = await factory({ dataDir: dir.path });
      expect(await store.get(j.id)).toEqual(j);
      expect(await store.getUsage(tenant, '2026-01-01')).toBe(2);
      expect(
        await store.create(job({ idempotencyKey: 'k' }), { idempotency: { requestHash: 'h', expiresAt: new Date(Date.now() + hour) } }),
      ).toMatchObject({ created: false, job: { id: j.id } });
    });

    it('concurrent writers in several OS processes: each job starts once, the budget is never overspent', async () => {
      const jobs = Array.from({ length: 40 }, () => sampleJob({ tenantId: 'tenant-a' }));
      for (const j of jobs) await store.create(j);
      const ids = jobs.map((j) => j.id);
      const writers = Array.from({ length: 4 }, () =>
        TsChild.start(CHILD, { factoryModule: options.factoryModule, dataDir: dir.path, jobIds: ids, reservations: 20, budgetLimit: 50 }),
      );
      children.push(...writers);
      await releaseTogether(writers, `${dir.path}/go`);
      const results = await Promise.all(writers.map((w) => w.waitForLine((l) => l['done'] === true, 60_000)));
      const won = results.flatMap((r) => r['won'] as string[]);
      expect(won.sort()).toEqual([...ids].sort());
      expect(results.reduce((n, r) => n + (r['reserved'] as number), 0)).toBe(50);
      expect(await store.getUsage('tenant-budget', '2026-01-01')).toBe(50);
      expect(await store.countActive('tenant-budget')).toBe(50);
      for (const id of ids) {
        const j = (await store.get(id)) as Job;
        expect(j.status).toBe('running');
        expect(j.attempts).toBe(1);
        expect(isTerminal(j.status)).toBe(false);
      }
    }, 90_000);
  });
}
