import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { dispatchJob, redispatchStranded } from './dispatch';

const dir = makeTempDir('dispatch-');
afterAll(() => dir.remove());

describe('redispatchStranded', () => {
  it('sends the messages of stored jobs that never reached the queue, and no duplicates', async () => {
    const queue = EmbeddedQueue.open({ dataDir: dir.path });
    const store = EmbeddedTaskStore.open({ dataDir: dir.path });
    await queue.ensureQueue('small-gpu');
    const now = Date.now();
    const at = (ms: number) => new Date(now - ms).toISOString();
    const dispatched = (ms: number, overrides = {}) =>
      sampleJob({ createdAt: at(ms), updatedAt: at(ms), dispatchedAt: at(ms), ...overrides });
    const sent = dispatched(60_000);
    const stranded = dispatched(60_000);
    const fresh = dispatched(1_000);
    const retried = dispatched(60_000, { attempts: 1 });
    const held = sampleJob({ createdAt: at(60_000), updatedAt: at(60_000) }); // the fair dispatcher's to send
    for (const j of [sent, stranded, fresh, retried, held]) await store.create(j);
    await dispatchJob(queue, sent); // the gateway got this one out before the crash

    const redone = await redispatchStranded(store, queue, { olderThanMs: 30_000, duplicateWindowMs: 600_000 }, now);
    expect(redone.map((j) => j.id).sort()).toEqual([sent.id, stranded.id].sort());
    const messages = await queue.peek('small-gpu', { maxMessages: 10 });
    expect(messages.map((m) => m.messageId).sort()).toEqual([sent.id, stranded.id].sort());
    expect(messages.find((m) => m.messageId === stranded.id)?.body).toMatchObject({
      jobId: stranded.id,
      inputRef: stranded.inputRef,
      attempt: 0,
    });
    await queue.close();
    await store.close();
  });
});
