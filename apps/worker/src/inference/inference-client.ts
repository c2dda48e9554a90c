import { Worker } from 'node:worker_threads';
import type { ResolvedModel, SessionOptions } from '@gpu-jobs/runners';
import type { FromThread, ThreadError, ToThread } from './protocol';

/** A run that failed inside the thread; `code` is set when the input is at fault (a permanent error). */
export class InferenceError extends Error {
  constructor(readonly detail: ThreadError) {
    super(detail.message);
    this.name = detail.name;
  }
  get permanent(): boolean {
    return this.detail.code !== undefined;
  }
  get cancelled(): boolean {
    return this.detail.name === 'RunCancelledError';
  }
}

interface Pending {
  resolve: (value: { result: unknown; seconds: number }) => void;
  reject: (err: Error) => void;
  onProgress?: (progress: { stage: string; done?: number; total?: number }) => void;
}

/** The main thread's handle on one inference thread. */
export class InferenceThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextRunId = 1;
  private exited = false;

  private constructor() {
    // Under tsx (nx serve, tests) the thread is the .ts source and inherits the loader; bundled, it is the .js beside main.js.
    const fromSource = import.meta.url.endsWith('/inference/inference-client.ts');
    this.worker = new Worker(new URL(fromSource ? './inference-thread.ts' : './inference/inference-thread.js', import.meta.url));
    this.worker.on('message', (m: FromThread) => this.onMessage(m));
    this.worker.on('exit', (code) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`the inference thread exited with code ${code}`));
      this.pending.clear();
    });
  }

  /** Starts a thread and loads and warms up the models; resolves with each model's load time. */
  static async start(
    models: ResolvedModel[],
    session: SessionOptions,
  ): Promise<{ thread: InferenceThread; loadSeconds: Record<string, number> }> {
    const thread = new InferenceThread();
    const loadSeconds = await new Promise<Record<string, number>>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'loaded') resolve(m.loadSeconds);
        if (m.type === 'load-failed') reject(new InferenceError(m.error));
        if (m.type === 'loaded' || m.type === 'load-failed') thread.worker.off('message', onMessage);
      };
      thread.worker.on('message', onMessage);
      thread.worker.once('error', reject);
      thread.post({ type: 'load', models, session });
    });
    return { thread, loadSeconds };
  }

  /** Runs a model on an input; the input buffer is transferred to the thread. */
  run(
    modelId: string,
    input: Buffer,
    onProgress?: Pending['onProgress'],
  ): { runId: number; done: Promise<{ result: unknown; seconds: number }> } {
    const runId = this.nextRunId++;
    const done = new Promise<{ result: unknown; seconds: number }>((resolve, reject) => {
      if (this.exited) return reject(new Error('the inference thread has exited'));
      this.pending.set(runId, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      const copy = new Uint8Array(input); // own buffer, safe to transfer
      this.worker.postMessage({ type: 'run', runId, modelId, input: copy } satisfies ToThread, [copy.buffer]);
    });
    return { runId, done };
  }

  /** Asks the thread to stop the run between stages. */
  cancel(runId: number): void {
    this.post({ type: 'cancel', runId });
  }

  async stop(): Promise<void> {
    if (!this.exited) await this.worker.terminate();
  }

  private post(message: ToThread): void {
    this.worker.postMessage(message);
  }

  private onMessage(m: FromThread): void {
    if (m.type === 'loaded' || m.type === 'load-failed') return;
    const p = this.pending.get(m.runId);
    if (!p) return;
    if (m.type === 'progress') p.onProgress?.(m.progress);
    else {
      this.pending.delete(m.runId);
      if (m.type === 'result') p.resolve({ result: m.result, seconds: m.seconds });
      else p.reject(new InferenceError(m.error));
    }
  }
}
