// The Functions handlers called the way the host calls them, with `new InvocationContext()` (the package
// supports this outside the host), against embedded ports and an in-memory orchestrator.
import { InvocationContext, type Timer } from '@azure/functions';
import type { LaneScale, Orchestrator } from '@gpu-jobs/orchestrator';
import { PlatformConfig, ScalerRunner, dispatchJob, openPorts, parsePlatformEnv, type Ports } from '@gpu-jobs/platform';
import { DEFAULT_POLICY } from '@gpu-jobs/scaling';
import { sampleJob } from '@gpu-jobs/task-store/testing';
import { makeTempDir } from '@gpu-jobs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterHandler, tierHandler, type HandlerDeps } from './handlers';

/** The orchestrator port in memory, with its optimistic concurrency; `interfere` makes the next write lose once. */
class MemoryOrchestrator implements Orchestrator {
  scale: LaneScale = { lane: 'small-gpu', readyWorkers: 1, startingWorkers: 0, floor: 1, maxReplicas: 6, version: '1' };
  writes = 0;
  interfere = false;
  async read(): Promise<LaneScale> {
    return { ...this.scale };
  }
  async write(_lane: string, update: { floor: number; state: string }, version: string): Promise<boolean> {
    if (this.interfere) {
      this.interfere = false;
      this.scale = { ...this.scale, version: String(Number(this.scale.version) + 1) };
    }
    if (version !== this.scale.version) return false;
    this.writes += 1;
    this.scale = { ...this.scale, floor: update.floor, state: update.state, version: String(Number(version) + 1) };
    return true;
  }
  async close(): Promise<void> {
    // nothing held
  }
}

const dir = makeTempDir('scaler-handlers-');
let ports: Ports;
const orchestrator = new MemoryOrchestrator();
let deps: HandlerDeps;
const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };
const logs: string[] = [];
const context = (functionName: string, triggerMetadata: Record<string, unknown> = {}) =>
  new InvocationContext({ functionName, triggerMetadata, logHandler: (_level, ...args) => logs.push(args.map(String).join(' ')) });

beforeAll(async () => {
  ports = await openPorts(parsePlatformEnv(PlatformConfig, { DATA_DIR: dir.path }), ['small-gpu']);
  const runner = new ScalerRunner({
    queue: ports.queue,
    store: ports.store,
    orchestrator,
    policy: () => ({ ...DEFAULT_POLICY, minReplicas: 1, maxReplicas: 6 }),
  });
  deps = { ports, runner, lanes: ['small-gpu'] };
});
afterAll(async () => {
  await ports.close();
  dir.remove();
});

describe('scaler handlers', () => {
  it('reactive monitor: raises the floor for waiting jobs, keeps its state with the lane, and logs the reason', async () => {
    for (let i = 0; i < 4; i++) {
      const job = sampleJob({ lane: 'small-gpu', dispatchedAt: new Date().toISOString() });
      await ports.store.create(job);
      await dispatchJob(ports.queue, job);
    }
    await tierHandler('reactive', async () => deps)(timer, context('reactiveMonitor'));
    expect(orchestrator.scale.floor).toBe(4);
    expect(JSON.parse(orchestrator.scale.state ?? '{}')).toMatchObject({ floor: 4 });
    expect(logs.at(-1)).toBe('reactive small-gpu: raised the floor from 1 to 4: 4 waiting + 0 running need 4 workers, 1 ready or starting');
  });

  it('retries after losing a write to another instance (optimistic concurrency)', async () => {
    orchestrator.interfere = true;
    const before = orchestrator.writes;
    await tierHandler('baseline', async () => deps)(timer, context('baselineAdjuster'));
    expect(orchestrator.writes).toBe(before + 1);
    expect(logs.at(-1)).toMatch(/^baseline small-gpu: /);
  });

  it('a lane that fails is reported and the invocation fails', async () => {
    const broken: HandlerDeps = { ...deps, lanes: ['no-such-lane'] };
    await expect(tierHandler('reactive', async () => broken)(timer, context('reactiveMonitor'))).rejects.toThrow(/no-such-lane/);
  });

  it('dead-letter handler: the job of a dead-lettered message ends failed with the reason; a repeat changes nothing', async () => {
    const job = sampleJob({ lane: 'small-gpu' });
    await ports.store.create(job);
    const outcomes: string[] = [];
    const handler = deadLetterHandler(
      async () => deps,
      (o) => outcomes.push(o),
    );
    const body = {
      jobId: job.id,
      tenantId: job.tenantId,
      model: job.model,
      lane: job.lane,
      inputRef: job.inputRef,
      priority: 'normal',
      attempt: 0,
    };
    const meta = { deadLetterReason: 'MaxDeliveryCountExceeded', deadLetterErrorDescription: 'delivered 10 times', messageId: job.id };
    await handler(body, context('deadLetters-small-gpu', meta));
    await handler(body, context('deadLetters-small-gpu', meta));
    await handler({ not: 'a job' }, context('deadLetters-small-gpu', meta));
    expect(outcomes).toEqual(['failed', 'already-finished', 'not-a-job']);
    expect(await ports.store.get(job.id)).toMatchObject({
      status: 'failed',
      error: { code: 'dead_lettered', message: 'MaxDeliveryCountExceeded: delivered 10 times' },
    });
  });
});
