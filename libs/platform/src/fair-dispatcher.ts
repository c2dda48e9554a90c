import { fairOrder } from '@gpu-jobs/admission';
import type { Job, LaneSettings } from '@gpu-jobs/job-contract';
import type { Queue } from '@gpu-jobs/queue';
import { applyEvent, type LaneLoad, type TaskStore } from '@gpu-jobs/task-store';
import { dispatchJob } from './dispatch';

export interface FairDispatcherOptions {
  laneSettings: (lane: string) => LaneSettings;
  /** A tenant's share of a contended lane relative to others (tenants file); 1 when unknown. */
  weight: (tenantId: string) => number;
  onError?: (lane: string, err: Error) => void;
  /** How long a lane's load read by this process is trusted for direct dispatch. */
  loadTtlMs?: number;
}

interface LaneState {
  load?: LaneLoad;
  loadAt: number;
  /** Places granted by admitDirect that `load` may not show (their job was not yet stored when it was read). */
  direct: number;
  /** Every grant so far, and the grants whose job's write had finished (stored or refused): both only grow. */
  grants: number;
  settled: number;
  running?: Promise<number>;
  again: boolean;
}

/**
 * Fair share between tenants, the same on every queue adapter (a Service Bus queue is plain FIFO).
 *
 * Each lane lets at most `dispatchWindow` jobs be in its queue or running at once. A job submitted while
 * the window is full (or while other jobs are held) is stored as held: queued in the task store, not yet in
 * the queue. When a place frees, `pump` releases held jobs in max-min fair order (admission/fair-order):
 * the tenant with the fewest jobs in flight relative to its weight goes first, and a tenant's own jobs by
 * priority, then age. A tenant that floods the lane fills the task store, not the queue, so another
 * tenant's job waits behind at most one window. Gateways pump after submits and on a timer; workers pump
 * when a job ends.
 */
export class FairDispatcher {
  private readonly lanes = new Map<string, LaneState>();
  private readonly loadTtlMs: number;
  /** Release times are distinct within this process, so "served longest ago" never ties on the clock. */
  private lastReleaseMs = 0;

  constructor(
    private readonly store: TaskStore,
    private readonly queue: Queue,
    private readonly options: FairDispatcherOptions,
  ) {
    this.loadTtlMs = options.loadTtlMs ?? 250;
  }

  private state(lane: string): LaneState {
    let s = this.lanes.get(lane);
    if (!s) {
      s = { loadAt: 0, direct: 0, grants: 0, settled: 0, again: false };
      this.lanes.set(lane, s);
    }
    return s;
  }

  /**
   * Whether a new job may skip the held stage and go straight to the queue: nothing of the lane is held
   * and, by this process's recent reading, the window has room. Counts the place it grants. When it says
   * no, store the job held and call `request`.
   */
  admitDirect(lane: string): boolean {
    const s = this.state(lane);
    if (!s.load || Date.now() - s.loadAt > this.loadTtlMs || s.load.held > 0) return false;
    if (s.load.dispatched + s.load.running + s.direct >= this.options.laneSettings(lane).dispatchWindow) return false;
    s.direct += 1;
    s.grants += 1;
    return true;
  }

  /** After a place from admitDirect was used: the job's write has finished (or failed), so a new reading shows it. */
  settled(lane: string): void {
    this.state(lane).settled += 1;
  }

  /** The lane's load as last read (for metrics and the backlog cap), refreshed when older than the TTL. */
  async load(lane: string): Promise<LaneLoad> {
    const s = this.state(lane);
    if (!s.load || Date.now() - s.loadAt > this.loadTtlMs) await this.pump(lane);
    return s.load as LaneLoad;
  }

  /**
   * Pumps in the background; errors go to onError. After a submit (`why: 'held'`) a lane this process just
   * read as full is left alone: only a job ending frees a place, and whoever ends it (a worker, a cancel,
   * the sweeper) asks with `why: 'freed'`. That keeps a flood of submits from re-reading the lane for nothing.
   */
  request(lane: string, why: 'held' | 'freed'): void {
    const s = this.state(lane);
    if (why === 'held' && s.load && Date.now() - s.loadAt <= this.loadTtlMs) {
      if (s.load.dispatched + s.load.running + s.direct >= this.options.laneSettings(lane).dispatchWindow) {
        s.load.held += 1;
        return;
      }
    }
    this.pump(lane).catch((err: Error) => this.options.onError?.(lane, err));
  }

  /** Releases held jobs while the window has room. Calls made while one runs are folded into one more round. */
  pump(lane: string): Promise<number> {
    const s = this.state(lane);
    if (s.running) {
      s.again = true;
      return s.running;
    }
    s.running = (async () => {
      let released = 0;
      do {
        s.again = false;
        released += await this.pumpOnce(lane, s);
      } while (s.again);
      return released;
    })().finally(() => {
      s.running = undefined;
    });
    return s.running;
  }

  private async pumpOnce(lane: string, s: LaneState): Promise<number> {
    // a grant whose job was not yet written when the reading started may be missing from it: keep counting it
    // (a grant written while the reading ran is counted twice until the next reading, which only holds a job back)
    const settledBefore = s.settled;
    const load = await this.store.laneLoad(lane);
    s.load = load;
    s.loadAt = Date.now();
    s.direct = s.grants - settledBefore;
    const free = this.options.laneSettings(lane).dispatchWindow - (load.dispatched + load.running);
    if (free <= 0 || load.held === 0) return 0;
    const held = await this.store.heldJobs(lane, load.heldTenants, free);
    const released: Job[] = [];
    for (const job of fairOrder(held, load.inFlightByTenant, this.options.weight, free, load.lastDispatchByTenant)) {
      // the conditional write decides: a job cancelled or released by another process meanwhile is skipped
      this.lastReleaseMs = Math.max(Date.now(), this.lastReleaseMs + 1);
      const r = await applyEvent(this.store, job.id, { type: 'dispatch', at: new Date(this.lastReleaseMs) });
      if (r.ok) released.push(r.job);
    }
    // A crash here leaves released jobs without messages; the repair pass (redispatchStranded) re-sends them.
    for (const job of released) await dispatchJob(this.queue, job);
    load.held -= released.length;
    load.dispatched += released.length;
    return released.length;
  }
}
