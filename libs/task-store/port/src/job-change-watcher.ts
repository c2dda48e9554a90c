import type { Job } from '@gpu-jobs/job-contract';

/** What a store offers the watcher: which jobs changed since a position, and a way to sleep until one may have. */
export interface JobChangeFeed {
  /**
   * The ids of the jobs written since `cursor` (in any order, possibly repeated) and the position after them; with
   * no cursor, the current position and no ids. `reset`: the cursor is too old to answer (changes were pruned),
   * so every waiter must look again.
   */
  jobChanges(cursor?: string): Promise<{ cursor: string; jobIds: string[]; reset?: boolean }>;
  /** Resolves when a job may have changed, after `maxMs` at the latest, or when `signal` aborts. */
  nextChange(maxMs: number, signal: AbortSignal): Promise<void>;
}

/** The longest one sleep of the watcher lasts, in case a change signal is missed. */
const MAX_SLEEP_MS = 1_000;

/**
 * One per store object (so one per process): the long-polls and event streams of many clients wait on it,
 * and it reads what changed once per change, then wakes only the waiters of the jobs that changed. A waiter
 * costs nothing while its job does not change: no read per waiter per commit, however many commits there are.
 */
export class JobChangeWatcher {
  private readonly waiters = new Map<string, Set<() => void>>();
  private cursor: string | undefined;
  private starting: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(
    private readonly feed: JobChangeFeed,
    private readonly read: (id: string, tenantId?: string) => Promise<Job | undefined>,
  ) {}

  /** How many waits are open (for tests and metrics). */
  get waiting(): number {
    let n = 0;
    for (const set of this.waiters.values()) n += set.size;
    return n;
  }

  /**
   * The job once it differs from the version last seen (`sinceUpdatedAt`), or as it is when time runs out, the
   * signal aborts or the job is gone.
   */
  async waitForJobChange(
    id: string,
    sinceUpdatedAt: string,
    timeoutMs: number,
    options: { tenantId?: string; signal?: AbortSignal } = {},
  ): Promise<Job | undefined> {
    // the position first, then the registration, then the read: a write after the read has a later position
    // and reaches this waiter; a write before it is seen by the read
    await this.start();
    let wake!: () => void;
    let woken = new Promise<void>((r) => (wake = r));
    const onChange = () => wake();
    this.register(id, onChange);
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const job = await this.read(id, options.tenantId);
        const remaining = deadline - Date.now();
        if (!job || job.updatedAt !== sinceUpdatedAt || remaining <= 0 || options.signal?.aborted || this.stop.signal.aborted) return job;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          const abort = () => resolve();
          options.signal?.addEventListener('abort', abort, { once: true });
          void woken.then(() => {
            clearTimeout(timer);
            options.signal?.removeEventListener('abort', abort);
            resolve();
          });
        });
        woken = new Promise<void>((r) => (wake = r));
      }
    } finally {
      this.unregister(id, onChange);
    }
  }

  close(): void {
    this.stop.abort();
    for (const set of this.waiters.values()) for (const w of set) w();
  }

  private start(): Promise<void> {
    this.starting ??= this.feed.jobChanges().then((r) => {
      this.cursor = r.cursor;
    });
    return this.starting;
  }

  private register(id: string, wake: () => void): void {
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(wake);
    this.loop ??= this.run().finally(() => {
      this.loop = undefined;
      // a waiter that registered as the loop was ending
      if (this.waiters.size > 0 && !this.stop.signal.aborted) this.loop = this.run();
    });
  }

  private unregister(id: string, wake: () => void): void {
    const set = this.waiters.get(id);
    set?.delete(wake);
    if (set?.size === 0) this.waiters.delete(id);
  }

  /** Runs while anyone waits: sleep until a change may have happened, read what changed once, wake its waiters. */
  private async run(): Promise<void> {
    while (this.waiters.size > 0 && !this.stop.signal.aborted) {
      await this.feed.nextChange(MAX_SLEEP_MS, this.stop.signal);
      if (this.stop.signal.aborted) return;
      try {
        const { cursor, jobIds, reset } = await this.feed.jobChanges(this.cursor);
        this.cursor = cursor;
        const targets = reset ? [...this.waiters.keys()] : jobIds;
        for (const id of new Set(targets)) for (const w of this.waiters.get(id) ?? []) w();
      } catch {
        // a failed read (the store closing, a transient error): every waiter looks for itself, then the loop goes on
        for (const set of this.waiters.values()) for (const w of set) w();
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
