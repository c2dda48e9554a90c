// Crashes, restarts and drains, with real processes: nothing a client was told was accepted is lost,
// and every job ends with exactly one outcome.
import { LocalBlobStore } from '@gpu-jobs/blob-store-local';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';
import { PlatformProcess } from '@gpu-jobs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, image, makePlatformEnv, slowInput, tokenFor } from './harness';

const running: PlatformProcess[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
  cleanups.splice(0).forEach((c) => c());
});

async function start(app: 'gateway' | 'worker', env: Record<string, string>): Promise<PlatformProcess> {
  const p = await PlatformProcess.start(app, env);
  running.push(p);
  return p;
}

function platform() {
  const made = makePlatformEnv();
  cleanups.push(() => made.dir.remove());
  return made;
}

async function queueCounts(dataDir: string) {
  const queue = EmbeddedQueue.open({ dataDir });
  try {
    return await queue.counts('small-gpu');
  } finally {
    await queue.close();
  }
}

describe('crashes and restarts', () => {
  it('a worker killed with SIGKILL mid-inference: after a restart the job completes exactly once, attempts = 2', async () => {
    const { dir, env } = platform();
    const gateway = await start('gateway', env);
    const first = await start('worker', env);
    const client = new Client(gateway, await tokenFor(dir.path, 'acme'));
    const job = await client.submit('slow', slowInput(512));
    expect((await client.reaches(job.id, 'running')).status).toBe('running');
    await first.stop('SIGKILL');

    await start('worker', env);
    const done = await client.finished(job.id, 90_000);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(done.result?.outputs).toHaveLength(1);
    expect(await queueCounts(dir.path)).toMatchObject({ active: 0, locked: 0, deadLettered: 0 });
  }, 150_000);

  it('SIGTERM during a job: the job completes and the worker exits 0', async () => {
    const { dir, env } = platform();
    const gateway = await start('gateway', env);
    const worker = await start('worker', env);
    const client = new Client(gateway, await tokenFor(dir.path, 'acme'));
    const job = await client.submit('slow', slowInput(512));
    await client.reaches(job.id, 'running');
    process.kill(worker.pid, 'SIGTERM');
    await worker.waitFor('/health/ready', 503, 2_000); // not ready at once, while the job still runs
    expect((await fetch(`${worker.url}/health/live`)).status).toBe(200);
    const exit = await worker.child.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(await client.job(job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  }, 120_000);

  it('the gateway restarted with jobs queued: all of them complete', async () => {
    const { dir, env } = platform();
    let gateway = await start('gateway', env);
    let client = new Client(gateway, await tokenFor(dir.path, 'acme'));
    const jobs = await Promise.all(Array.from({ length: 5 }, () => client.submit('ocr-en', { image: image('page.png') })));
    await gateway.stop('SIGKILL');

    gateway = await start('gateway', env);
    await start('worker', env);
    client = new Client(gateway, client.token);
    const done = await Promise.all(jobs.map((j) => client.finished(j.id)));
    expect(done.map((j) => j.status)).toEqual(new Array(5).fill('succeeded'));
  }, 120_000);

  it('a job stored but never queued (the gateway died between the two writes) is queued by the repair pass', async () => {
    const { dir, env } = platform();
    // what the gateway had written when it died: the input and the job marked dispatched, but no queue message
    const store = EmbeddedTaskStore.open({ dataDir: dir.path });
    const blobs = LocalBlobStore.open({ dataDir: dir.path });
    const at = new Date(Date.now() - 20_000).toISOString();
    const job = sampleJob({
      tenantId: 'acme',
      model: 'ocr-en',
      inputRef: 'inputs/acme/stranded',
      createdAt: at,
      updatedAt: at,
      dispatchedAt: at,
    });
    await blobs.put(job.inputRef, Buffer.from(image('page.png'), 'base64'), { contentType: 'image/png' });
    await store.create(job);
    await store.close();

    const gateway = await start('gateway', env);
    expect(gateway.logs('re-sent the messages of stranded jobs')[0]).toMatchObject({ jobIds: [job.id] });
    await start('worker', env);
    const client = new Client(gateway, await tokenFor(dir.path, 'acme'));
    const done = await client.finished(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(done.result?.text).toContain('Invoice 2048');
  }, 120_000);
});
