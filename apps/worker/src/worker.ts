import type { FairDispatcher, Ports } from '@gpu-jobs/platform';
import type { ModelIndex, ResolvedModel } from '@gpu-jobs/runners';
import type { Logger, PlatformMetrics } from '@gpu-jobs/telemetry';
import { JobConsumer } from './consumer/job-consumer';
import { InferenceThread } from './inference/inference-client';
import type { WorkerConfig } from './worker-config';

export type WorkerState = 'starting' | 'ready' | 'draining' | 'stopped';

/**
 * One worker process: N slots, each an inference thread and a receive loop on the lane's queue.
 * Drain stops receiving at once, lets running jobs finish within the grace period, then hands back
 * what is still running (abandoned, attempt counted) so another worker takes it.
 */
export class GpuWorker {
  state: WorkerState = 'starting';
  readonly loadSeconds: Record<string, number> = {};
  private readonly stopReceiving = new AbortController();
  private readonly stopRunning = new AbortController();
  private readonly threads: InferenceThread[] = [];
  private loops: Promise<void>[] = [];
  private running = 0;
  private drained: Promise<void> | undefined;

  constructor(
    private readonly config: WorkerConfig,
    private readonly ports: Ports,
    private readonly models: ModelIndex,
    private readonly log: Logger,
    private readonly metrics: PlatformMetrics,
    /** Released held jobs of the lane when one of ours ends (its place in the lane's window is free). */
    private readonly dispatcher?: FairDispatcher,
  ) {}

  get laneModels(): ResolvedModel[] {
    return this.models.forLane(this.config.WORKER_LANE);
  }

  /** Loads and warms up the lane's models in every slot's thread, then starts receiving. */
  async start(): Promise<void> {
    const models = this.laneModels;
    if (models.length === 0) throw new Error(`no model in the registry is served by lane ${this.config.WORKER_LANE}`);
    const session = {
      executionProvider: this.config.ORT_EXECUTION_PROVIDER,
      intraOpThreads: this.config.ORT_INTRA_OP_THREADS,
      interOpThreads: 1,
    };
    for (let slot = 0; slot < this.config.WORKER_CONCURRENCY; slot++) {
      const { thread, loadSeconds } = await InferenceThread.start(models, session);
      this.threads.push(thread);
      for (const [id, seconds] of Object.entries(loadSeconds)) {
        this.loadSeconds[id] = seconds;
        this.metrics.modelLoadSeconds.set({ model: id }, seconds);
      }
    }
    if (this.drained) return; // asked to stop while loading
    this.state = 'ready';
    const consumer = new JobConsumer({
      queue: this.ports.queue,
      store: this.ports.store,
      blobs: this.ports.blobs,
      models: this.models,
      log: this.log,
      metrics: this.metrics,
      workerId: this.config.WORKER_ID,
      lane: this.config.WORKER_LANE,
      resultInlineMaxBytes: this.config.RESULT_INLINE_MAX_BYTES,
    });
    this.loops = this.threads.map((thread) => this.receiveLoop(consumer, thread));
    this.log.info({ lane: this.config.WORKER_LANE, models: models.map((m) => m.id), loadSeconds: this.loadSeconds }, 'worker ready');
  }

  private async receiveLoop(consumer: JobConsumer, thread: InferenceThread): Promise<void> {
    const { queue } = this.ports;
    while (!this.stopReceiving.signal.aborted) {
      try {
        const [message] = await queue.receive(this.config.WORKER_LANE, {
          maxMessages: 1,
          maxWaitTimeMs: this.config.WORKER_RECEIVE_WAIT_SECONDS * 1000,
          abortSignal: this.stopReceiving.signal,
        });
        if (message) {
          this.running += 1;
          await consumer.handle(message, thread, this.stopRunning.signal).finally(() => (this.running -= 1));
          this.dispatcher?.request(this.config.WORKER_LANE, 'freed');
        }
      } catch (err) {
        if (this.stopReceiving.signal.aborted) break;
        this.log.error({ errorName: (err as Error).name, errorMessage: (err as Error).message }, 'receive loop error; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  /** Jobs this worker holds right now. */
  get inFlight(): number {
    return this.running;
  }

  /** Stops receiving now; running jobs get the grace period, then are handed back. Idempotent. */
  drain(): Promise<void> {
    this.drained ??= (async () => {
      this.state = 'draining';
      this.log.info({ graceSeconds: this.config.WORKER_DRAIN_GRACE_SECONDS }, 'draining');
      this.stopReceiving.abort();
      const grace = setTimeout(() => this.stopRunning.abort(), this.config.WORKER_DRAIN_GRACE_SECONDS * 1000);
      await Promise.all(this.loops);
      clearTimeout(grace);
      await Promise.all(this.threads.map((t) => t.stop()));
      this.state = 'stopped';
      this.log.info('drained');
    })();
    return this.drained;
  }
}
