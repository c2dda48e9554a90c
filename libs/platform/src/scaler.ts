import { isValid, JobMessage } from '@gpu-jobs/job-contract';
import type { Orchestrator } from '@gpu-jobs/orchestrator';
import type { Queue } from '@gpu-jobs/queue';
import {
  baseline,
  initialState,
  reactive,
  type Decision,
  type LaneObservation,
  type LanePolicy,
  type ScalerState,
} from '@gpu-jobs/scaling';
import { applyEvent, type TaskStore } from '@gpu-jobs/task-store';

export type Tier = 'reactive' | 'baseline';

export interface ScalerDeps {
  queue: Queue;
  store: TaskStore;
  orchestrator: Orchestrator;
  policy: (lane: string) => LanePolicy;
  onDecision?: (lane: string, tier: Tier, decision: Decision, observation: LaneObservation) => void;
  now?: () => number;
}

/**
 * A lane's backlog as the scaler counts it: the queue's counts, the task store's held and running jobs, and the
 * jobs waiting (ready in the queue or held by the fair dispatcher). Tier 1 on one machine and the tiers read it.
 */
export async function laneBacklog(queue: Queue, store: TaskStore, lane: string) {
  const [counts, load] = await Promise.all([queue.counts(lane), store.laneLoad(lane)]);
  return { counts, load, waiting: counts.active + load.held };
}

/**
 * Runs the scaling tiers for lanes against the ports: observe (queue counts, the task store's held and
 * running jobs, the orchestrator's workers), decide (libs/scaling), write the floor and the state back with
 * the version read. Single-flight per lane inside this instance (a run still going makes the next one a
 * no-op); across instances the orchestrator's optimistic concurrency makes the loser re-read and decide
 * again, so two runs never fight.
 */
export class ScalerRunner {
  private readonly running = new Map<string, Promise<Decision | undefined>>();

  constructor(private readonly deps: ScalerDeps) {}

  run(lane: string, tier: Tier): Promise<Decision | undefined> {
    const key = lane;
    if (this.running.has(key)) return Promise.resolve(undefined);
    const p = this.runOnce(lane, tier).finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  /** What the tiers see of a lane: waiting includes held jobs; in-flight is what KEDA does not see. */
  async observe(lane: string, workers: { readyWorkers: number; startingWorkers: number }): Promise<LaneObservation> {
    const { counts, load, waiting } = await laneBacklog(this.deps.queue, this.deps.store, lane);
    return {
      at: this.deps.now?.() ?? Date.now(),
      waiting,
      inFlight: Math.max(counts.locked, load.running),
      oldestWaitMs: counts.oldestActiveAgeMs,
      readyWorkers: workers.readyWorkers,
      startingWorkers: workers.startingWorkers,
    };
  }

  private async runOnce(lane: string, tier: Tier): Promise<Decision | undefined> {
    const policy = this.deps.policy(lane);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const scale = await this.deps.orchestrator.read(lane);
      const state: ScalerState = { ...(parseState(scale.state) ?? initialState(policy)), floor: scale.floor };
      const observation = await this.observe(lane, scale);
      const decision = (tier === 'reactive' ? reactive : baseline)(observation, policy, state);
      if (await this.deps.orchestrator.write(lane, { floor: decision.floor, state: JSON.stringify(decision.state) }, scale.version)) {
        this.deps.onDecision?.(lane, tier, decision, observation);
        return decision;
      }
    }
    throw new Error(`lane ${lane}: five conflicting writes in a row; another scaler keeps writing`);
  }
}

function parseState(text: string | undefined): ScalerState | undefined {
  if (!text) return undefined;
  try {
    const s = JSON.parse(text) as ScalerState;
    return typeof s.floor === 'number' && s.hourlyPeaks && typeof s.hourlyPeaks === 'object' ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A message the broker dead-lettered (too many deliveries, expired): its job ends `failed` with the reason,
 * unless it already ended. Returns what happened, for the handler's log and metrics.
 */
export async function handleDeadLetter(
  store: TaskStore,
  body: unknown,
  reason: string,
  description?: string,
): Promise<'failed' | 'already-finished' | 'unknown-job' | 'not-a-job'> {
  if (!isValid(JobMessage, body)) return 'not-a-job';
  const r = await applyEvent(store, body.jobId, {
    type: 'deadLetter',
    at: new Date(),
    reason,
    ...(description ? { description } : {}),
  });
  if (r.ok) return 'failed';
  return r.reason === 'not_found' ? 'unknown-job' : 'already-finished';
}
