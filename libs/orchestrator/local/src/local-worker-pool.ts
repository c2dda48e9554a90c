import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isListeningMessage } from '@gpu-jobs/config';
import type { LaneScale, Orchestrator } from '@gpu-jobs/orchestrator';
import { kedaDesired } from '@gpu-jobs/scaling';

export interface LocalPoolOptions {
  lane: string;
  /** Never fewer workers than this (the floor can raise it), never more than max. */
  minWorkers: number;
  maxWorkers: number;
  /** The worker command, e.g. ['node', '--import', 'tsx', 'apps/worker/src/main.ts']; PORT=0 is set. */
  command: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Tier 1 (acting as KEDA): jobs waiting in the lane right now. */
  waiting: () => Promise<number>;
  /** Tier 1: waiting messages per worker it aims for. */
  targetWaitingPerWorker: number;
  /** Tier 1 scale-in waits this long after demand last exceeded the pool (KEDA's cooldownPeriod). */
  scaleInCooldownMs: number;
  /** How often tier 1 looks. */
  pollMs?: number;
  /** Each line a worker prints (its JSON logs), to pass on. */
  onOutput?: (line: string) => void;
  onEvent?: (event: { msg: string; [k: string]: unknown }) => void;
}

interface Worker {
  id: number;
  child: ChildProcess;
  url?: string;
  ready: boolean;
  draining: boolean;
  exited: Promise<void>;
}

/** How a worker process ended. */
export interface WorkerExit {
  pid: number;
  code: number | null;
  signal: string | null;
}

/**
 * The local orchestrator: a pool of real worker processes on this machine. It plays KEDA (tier 1: workers
 * follow the lane's waiting jobs, within [floor, max]) and takes the floor from the scaler (tiers 2 and 3)
 * through the Orchestrator port. Scale-in only ever stops an idle worker: it asks the worker to drain if it
 * holds no job (`POST /admin/drain?ifIdle=true`, refused with 409 when busy), and the worker exits by itself
 * once drained.
 */
export class LocalWorkerPool implements Orchestrator {
  private readonly workers = new Map<number, Worker>();
  /** The last workers that ended, newest last (a bounded list, for status). */
  private readonly ended: WorkerExit[] = [];
  private nextId = 1;
  private floor: number;
  private state: string | undefined;
  private version = 0;
  private lastBusyAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private reconciling: Promise<void> | undefined;

  constructor(private readonly options: LocalPoolOptions) {
    this.floor = options.minWorkers;
  }

  /** Starts the minimum and the tier-1 loop. */
  start(): void {
    const loop = () => {
      this.timer = setTimeout(() => {
        void this.reconcile().finally(() => !this.closed && loop());
      }, this.options.pollMs ?? 1_000);
    };
    void this.reconcile();
    loop();
  }

  private live(): Worker[] {
    return [...this.workers.values()].filter((w) => !w.draining);
  }

  async read(lane: string): Promise<LaneScale> {
    this.check(lane);
    const live = this.live();
    const scale: LaneScale = {
      lane,
      readyWorkers: live.filter((w) => w.ready).length,
      startingWorkers: live.filter((w) => !w.ready).length,
      floor: this.floor,
      maxReplicas: this.options.maxWorkers,
      version: String(this.version),
    };
    if (this.state !== undefined) scale.state = this.state;
    return scale;
  }

  async write(lane: string, update: { floor: number; state: string }, version: string): Promise<boolean> {
    this.check(lane);
    if (version !== String(this.version)) return false;
    this.version += 1;
    const floor = Math.min(this.options.maxWorkers, Math.max(this.options.minWorkers, update.floor));
    if (floor !== this.floor) this.options.onEvent?.({ msg: 'floor set', lane, from: this.floor, to: floor });
    this.floor = floor;
    this.state = update.state;
    void this.reconcile();
    return true;
  }

  /** Workers the pool wants now: KEDA's rule on waiting jobs, within [floor, max]. */
  private desired(waiting: number): number {
    return kedaDesired(waiting, this.floor, {
      targetMessagesPerWorker: this.options.targetWaitingPerWorker,
      jobsPerWorker: 1,
      minReplicas: this.options.minWorkers,
      maxReplicas: this.options.maxWorkers,
    });
  }

  /** One tier-1 step; never two at once. */
  reconcile(): Promise<void> {
    this.reconciling ??= this.reconcileOnce().finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    if (this.closed) return;
    await Promise.all(
      this.live()
        .filter((w) => !w.ready && w.url)
        .map((w) => this.probe(w)),
    );
    const waiting = await this.options.waiting().catch(() => 0);
    const want = this.desired(waiting);
    const live = this.live();
    if (want >= live.length) this.lastBusyAt = Date.now();
    for (let n = live.length; n < want; n++) this.spawnWorker();
    if (want < live.length && Date.now() - this.lastBusyAt >= this.options.scaleInCooldownMs) {
      // newest first, only ready ones (a starting one is loading its model), one at a time
      for (const w of live.filter((x) => x.ready).reverse()) {
        if (this.live().length <= want) break;
        if (await this.drainIfIdle(w)) break;
      }
    }
  }

  private async probe(w: Worker): Promise<void> {
    try {
      w.ready = (await fetch(`${w.url}/health/ready`, { signal: AbortSignal.timeout(2_000) })).status === 200;
      if (w.ready) this.options.onEvent?.({ msg: 'worker ready', workerPid: w.child.pid, workers: this.live().length });
    } catch {
      w.ready = false;
    }
  }

  private async drainIfIdle(w: Worker): Promise<boolean> {
    try {
      const res = await fetch(`${w.url}/admin/drain?ifIdle=true`, { method: 'POST', signal: AbortSignal.timeout(2_000) });
      if (res.status !== 202) return false;
      w.draining = true;
      this.options.onEvent?.({ msg: 'worker draining (idle)', workerPid: w.child.pid, workers: this.live().length });
      return true;
    } catch {
      return false;
    }
  }

  private spawnWorker(): void {
    const [cmd, ...args] = this.options.command;
    const id = this.nextId++;
    const child = spawn(cmd as string, args, {
      cwd: this.options.cwd ?? process.cwd(),
      env: { ...process.env, ...this.options.env, PORT: '0', WORKER_LANE: this.options.lane },
      // the IPC channel carries the worker's port (never parsed from its logs) and, if this process dies, tells
      // the worker to stop: no worker outlives its pool
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    const worker: Worker = {
      id,
      child,
      ready: false,
      draining: false,
      exited: new Promise((resolve) =>
        child.once('exit', (code, signal) => {
          this.ended.push({ pid: child.pid ?? -1, code, signal });
          if (this.ended.length > 20) this.ended.shift();
          resolve();
        }),
      ),
    };
    this.workers.set(id, worker);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.options.onOutput?.(line));
    child.on('message', (m) => {
      if (isListeningMessage(m)) worker.url = `http://127.0.0.1:${m.port}`;
    });
    void worker.exited.then(() => {
      this.workers.delete(id);
      this.options.onEvent?.({ msg: 'worker exited', workerPid: child.pid, exitCode: child.exitCode, workers: this.live().length });
    });
    this.options.onEvent?.({ msg: 'worker started', workerPid: child.pid, workers: this.live().length });
  }

  /** How the last workers ended (for status: a drained worker exits 0). */
  exits(): WorkerExit[] {
    return [...this.ended];
  }

  /** Pids of the pool's processes (for tests and status). */
  pids(): number[] {
    return [...this.workers.values()].map((w) => w.child.pid ?? -1);
  }

  /** Drains every worker (SIGTERM: running jobs finish within the worker's grace) and waits for them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    await this.reconciling;
    const all = [...this.workers.values()];
    for (const w of all) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    await Promise.all(all.map((w) => w.exited));
  }

  private check(lane: string): void {
    if (lane !== this.options.lane) throw new Error(`this pool runs lane ${this.options.lane}, not ${lane}`);
  }
}
