import { LocalBlobStore } from '@gpu-jobs/blob-store-local';
import { applyEvent } from '@gpu-jobs/task-store';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { sweep } from './sweeper';

const dir = makeTempDir('sweeper-');
afterAll(() => dir.remove());

describe('sweep', () => {
  it('expires overdue queued jobs (refund, webhook), removes finished jobs past retention with their blobs', async () => {
    const store = EmbeddedTaskStore.open({ dataDir: dir.path });
    const blobs = LocalBlobStore.open({ dataDir: dir.path });
    const now = new Date();
    const hour = 3_600_000;
    const day = now.toISOString().slice(0, 10);
    const overdue = sampleJob({
      tenantId: 't',
      deadlineAt: new Date(now.getTime() - 1_000).toISOString(),
      cost: { day, reserved: 2 },
      webhook: { url: 'https://hooks.example.com/' },
    });
    const notYet = sampleJob({ tenantId: 't', deadlineAt: new Date(now.getTime() + hour).toISOString() });
    const old = sampleJob({ tenantId: 't', inputRef: 'inputs/t/old', createdAt: new Date(now.getTime() - 3 * hour).toISOString() });
    for (const j of [overdue, notYet, old]) await store.create(j);
    await store.create(sampleJob({ idempotencyKey: 'k' }), { idempotency: { requestHash: 'h', expiresAt: new Date(now.getTime() - 1) } });
    await blobs.put('inputs/t/old', Buffer.from('x'), { contentType: 'text/plain' });
    await blobs.put('results/t/old.json', Buffer.from('{}'), { contentType: 'application/json' });
    await applyEvent(store, old.id, { type: 'start', at: new Date(now.getTime() - 2 * hour), workerId: 'w' });
    await applyEvent(store, old.id, { type: 'succeed', at: new Date(now.getTime() - 2 * hour), resultRef: 'results/t/old.json' });
    expect(await store.getUsage('t', day)).toBe(2);

    const report = await sweep({ store, blobs }, { retentionMs: hour, batch: 100 }, now);
    expect(report.expired.map((j) => j.id)).toEqual([overdue.id]);
    expect(report).toMatchObject({ removed: 1, keysPruned: 1 });
    expect(await store.get(overdue.id)).toMatchObject({ status: 'expired', error: { code: 'deadline_exceeded' } });
    expect(await store.getUsage('t', day)).toBe(0);
    expect((await store.listWebhookDeliveries(overdue.id)).map((d) => d.type)).toEqual(['job.expired']);
    expect(await store.get(notYet.id)).toMatchObject({ status: 'queued' });
    expect(await store.get(old.id)).toBeUndefined();
    expect(await blobs.exists('inputs/t/old')).toBe(false);
    expect(await blobs.exists('results/t/old.json')).toBe(false);
    // the expired job is kept until its own retention runs out
    expect((await sweep({ store, blobs }, { retentionMs: hour, batch: 100 }, now)).removed).toBe(0);
    await store.close();
    await blobs.close();
  });
});
