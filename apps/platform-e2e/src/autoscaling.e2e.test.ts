// The local orchestrator as `npm start` runs it: the gateway, and the scaler's local loop, which starts and
// stops real worker processes. A burst scales the pool up; after it, the pool goes back to the minimum by
// draining idle workers only.
import { PlatformProcess } from '@gpu-jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, makePlatformEnv, slowInput, tokenFor, type JobView } from './harness';

interface Status {
  lanes: {
    lane: string;
    readyWorkers: number;
    startingWorkers: number;
    floor: number;
    pids?: number[];
    exited?: { pid: number; code: number | null }[];
  }[];
}

describe('autoscaling on one machine (local orchestrator)', () => {
  const { dir, env } = makePlatformEnv({
    extra: {
      SCALER_MIN_WORKERS: '1',
      SCALER_MAX_WORKERS: '2',
      SCALER_TARGET_WAITING_PER_WORKER: '2',
      SCALER_SCALE_IN_COOLDOWN_SECONDS: '3',
      SCALER_REACTIVE_SECONDS: '2',
      // tier 3 every 3 s over a 12 s window, lowering 5 s after a raise at the earliest (production: 3 h, 24 h, 30 min)
      SCALER_BASELINE_SECONDS: '3',
      SCALER_BASELINE_WINDOW_SECONDS: '12',
      SCALER_SCALE_DOWN_COOLDOWN_SECONDS: '5',
      WORKER_DRAIN_GRACE_SECONDS: '120',
    },
  });
  let gateway: PlatformProcess;
  let scaler: PlatformProcess;
  const seenPids = new Set<number>();

  const status = async (): Promise<Status['lanes'][number]> => {
    const s = (await (await fetch(`${scaler.url}/status`)).json()) as Status;
    const lane = s.lanes.find((l) => l.lane === 'small-gpu') as Status['lanes'][number];
    for (const pid of lane.pids ?? []) seenPids.add(pid);
    return lane;
  };
  const until = async (what: string, ok: (l: Status['lanes'][number]) => boolean, timeoutMs: number) => {
    const end = Date.now() + timeoutMs;
    let last: Status['lanes'][number] | undefined;
    while (Date.now() < end) {
      last = await status();
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what} did not happen within ${timeoutMs} ms; last status ${JSON.stringify(last)}`);
  };

  beforeAll(async () => {
    [gateway, scaler] = await Promise.all([PlatformProcess.start('gateway', env), PlatformProcess.start('scaler', env)]);
  }, 120_000);
  afterAll(async () => {
    // SIGTERM: the scaler drains and stops its workers; any left after that are stopped by PID
    await scaler?.stop('SIGTERM');
    for (const pid of seenPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await gateway?.stop();
    dir.remove();
  });

  it('a burst scales workers from 1 to 2; afterwards they go back to 1; no job lost, run twice or interrupted', async () => {
    await until('one ready worker', (l) => l.readyWorkers === 1, 90_000);
    const client = new Client(gateway, await tokenFor(dir.path, 'acme'));
    const jobs: JobView[] = [];
    for (let i = 0; i < 10; i++) jobs.push(await client.submit('slow', slowInput(256)));
    const up = await until('scale-up to two ready workers', (l) => l.readyWorkers === 2, 90_000);
    expect(up.readyWorkers).toBe(2);
    const done = await Promise.all(jobs.map((j) => client.finished(j.id, 180_000)));
    // every job succeeded on its first attempt: none lost, none run twice, none taken from a worker mid-job
    expect(done.map((j) => [j.status, j.attempts])).toEqual(new Array(10).fill(['succeeded', 1]));
    const down = await until('scale-in back to one worker', (l) => l.readyWorkers + l.startingWorkers === 1, 60_000);
    expect(down.readyWorkers).toBe(1);
    // the worker that drained exited 0 after stopping cleanly (read from the scaler's status, not from log lines)
    const exited = await until('the drained worker has exited', (l) => (l.exited ?? []).length >= 1, 60_000);
    expect(exited.exited?.map((e) => e.code)).toEqual([0]);
  }, 360_000);
});
