import type { Job } from '@gpu-jobs/job-contract';
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';
import { applyEvent } from '@gpu-jobs/task-store';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FairDispatcher } from './fair-dispatcher';

let dir: ReturnType<typeof makeTempDir>;
let queue: EmbeddedQueue;
let store: EmbeddedTaskStore;
const lane = 'small-gpu';

beforeEach(async () => {
  dir = makeTempDir('fair-dispatch-');
  queue = EmbeddedQueue.open({ dataDir: dir.path });
  store = EmbeddedTaskStore.open({ dataDir: dir.path });
  await queue.ensureQueue(lane, { lockDurationMs: 60_000 });
});
afterEach(async () => {
  await queue.close();
  await store.close();
  dir.remove();
});

const dispatcher = (window: number, weight: (t: string) => number = () => 1) =>
  new FairDispatcher(store, queue, { laneSettings: () => ({ dispatchWindow: window, maxBacklog: 10_000 }), weight });

/** Plays a worker: takes the next message, runs the job to success, returns its tenant. */
async function runNext(): Promise<Job | undefined> {
  const [m] = await queue.receive(lane, { maxMessages: 1, maxWaitTimeMs: 0 });
  if (!m) return undefined;
  const id = (m.body as { jobId: string }).jobId;
  await applyEvent(store, id, { type: 'start', at: new Date(), workerId: 'w' });
  const done = await applyEvent(store, id, { type: 'succeed', at: new Date(), result: 1 });
  await queue.complete(m);
  return done.ok ? done.job : undefined;
}

describe('FairDispatcher', () => {
  it('keeps at most the window in the queue or running; the rest stays held', async () => {
    for (let i = 0; i < 10; i++) await store.create(sampleJob({ lane }));
    const d = dispatcher(3);
    expect(await d.pump(lane)).toBe(3);
    expect(await d.pump(lane)).toBe(0);
    expect((await queue.counts(lane)).active).toBe(3);
    expect(await store.laneLoad(lane)).toMatchObject({ held: 7, dispatched: 3 });
    await runNext();
    expect(await d.pump(lane)).toBe(1);
  });

  it('a tenant arriving behind a flood finishes before half of the flood', async () => {
    const d = dispatcher(4);
    const flood = Array.from({ length: 300 }, () => sampleJob({ lane, tenantId: 'a' }));
    for (const j of flood) await store.create(j);
    await d.pump(lane);
    for (let i = 0; i < 5; i++) await store.create(sampleJob({ lane, tenantId: 'b' }));
    const order: string[] = [];
    for (let n = 0; n < 305; n++) {
      await d.pump(lane);
      const job = await runNext();
      if (!job) break;
      order.push(job.tenantId);
    }
    expect(order).toHaveLength(305);
    const lastB = order.lastIndexOf('b');
    const aBefore = order.slice(0, lastB).filter((t) => t === 'a').length;
    expect(aBefore).toBeLessThan(150);
    expect(aBefore).toBeLessThanOrEqual(4 + 5); // one window, then alternating
  });

  it('with a window of one, a late tenant alternates with the flooding one instead of waiting behind it', async () => {
    const d = dispatcher(1);
    for (let i = 0; i < 20; i++) await store.create(sampleJob({ lane, tenantId: 'a' }));
    await d.pump(lane);
    for (let i = 0; i < 3; i++) await store.create(sampleJob({ lane, tenantId: 'b' }));
    const order: string[] = [];
    for (let n = 0; n < 8; n++) {
      const job = await runNext();
      if (job) order.push(job.tenantId);
      await d.pump(lane);
    }
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'a']);
  });

  it("a high-priority job overtakes the tenant's held low ones", async () => {
    const d = dispatcher(1);
    const lows = Array.from({ length: 100 }, () => sampleJob({ lane, priority: 'low' }));
    for (const j of lows) await store.create(j);
    await d.pump(lane); // one low job takes the window
    const high = sampleJob({ lane, priority: 'high' });
    await store.create(high);
    const first = await runNext();
    expect(first?.priority).toBe('low');
    await d.pump(lane);
    expect((await runNext())?.id).toBe(high.id);
  });

  it("a held job's message carries the trace context of the request that submitted it", async () => {
    const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await store.create(sampleJob({ lane, traceparent: trace }));
    await dispatcher(1).pump(lane);
    const [m] = await queue.peek(lane, { maxMessages: 1 });
    expect(m?.body).toMatchObject({ traceparent: trace });
  });

  it('admitDirect: only with a fresh reading, nothing held and room in the window', async () => {
    const d = dispatcher(2);
    expect(d.admitDirect(lane)).toBe(false); // no reading yet
    await d.load(lane);
    expect(d.admitDirect(lane)).toBe(true);
    expect(d.admitDirect(lane)).toBe(true);
    expect(d.admitDirect(lane)).toBe(false); // the window is counted, even before the jobs are stored
    await store.create(sampleJob({ lane }));
    d.settled(lane);
    d.settled(lane); // both grants' writes are done (one stored a job, one failed)
    await d.pump(lane);
    expect(d.admitDirect(lane)).toBe(true); // the reading counts stored jobs, not the grants
  });

  it('admitDirect: a grant made while a reading is in flight still counts after it (the reading may not show its job)', async () => {
    // a store whose lane reading waits for the test's barrier
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = Object.create(store) as typeof store;
    slow.laneLoad = async (l: string) => {
      const load = await store.laneLoad(l);
      await gate;
      return load;
    };
    const d = new FairDispatcher(slow, queue, { laneSettings: () => ({ dispatchWindow: 1, maxBacklog: 1000 }), weight: () => 1 });
    release();
    await d.load(lane); // a first, empty reading
    let blockGate!: () => void;
    const second = new Promise<void>((r) => (blockGate = r));
    slow.laneLoad = async (l: string) => {
      const load = await store.laneLoad(l); // read before the granted job is stored
      await second;
      return load;
    };
    const reading = d.pump(lane);
    expect(d.admitDirect(lane)).toBe(true); // the lane's only place, granted while the reading is in flight
    blockGate();
    await reading;
    expect(d.admitDirect(lane)).toBe(false); // the reading did not show the granted job: its place is still taken
  });

  it('skips a job cancelled after it was read, and folds concurrent pumps into one more round', async () => {
    const jobs = Array.from({ length: 6 }, () => sampleJob({ lane }));
    for (const j of jobs) await store.create(j);
    await applyEvent(store, jobs[0]!.id, { type: 'cancel', at: new Date() });
    const d = dispatcher(10);
    const results = await Promise.all([d.pump(lane), d.pump(lane), d.pump(lane)]);
    expect(results[0]).toBe(5);
    expect((await queue.counts(lane)).active).toBe(5);
  });
});
