import {
  DEFAULT_POLICY,
  baseline,
  initialState,
  kedaDesired,
  reactive,
  type LaneObservation,
  type LanePolicy,
  type ScalerState,
} from '@gpu-jobs/scaling';
import { rng } from './trace';

export type PolicyName = 'static-peak' | 'keda-only' | 'three-tier';
export const POLICIES: readonly PolicyName[] = ['static-peak', 'keda-only', 'three-tier'];

/** The world the policies run in. */
export interface SimSettings {
  /** A new GPU node takes this long (uniform between the two), seconds. */
  nodeProvisionS: [number, number];
  /** A pod on a ready node: image, start, model load and warm-up, seconds. */
  podStartS: [number, number];
  /** An empty node stays (and costs) this long before the cluster autoscaler removes it. */
  nodeKeepS: number;
  /** Job service time: lognormal with this median (s) and sigma. */
  serviceMedianS: number;
  serviceSigma: number;
  /** Spot evictions per worker-hour; an evicted worker's job returns to the queue. */
  spotEvictionsPerHour: number;
  seed: number;
}

export const DEFAULT_SETTINGS: SimSettings = {
  nodeProvisionS: [300, 600],
  podStartS: [40, 90],
  nodeKeepS: 600,
  serviceMedianS: 20,
  serviceSigma: 0.5,
  spotEvictionsPerHour: 0,
  seed: 42,
};

export interface PolicySettings {
  /** The lane's policy for the three tiers (min, max, cooldowns, window...). */
  lane: LanePolicy;
  /** Workers a static-peak deployment runs all the time. */
  staticWorkers: number;
  /** KEDA-only: poll and cooldown as KEDA's defaults are commonly left. */
  kedaPollS: number;
  kedaCooldownS: number;
}

export interface SimResult {
  policy: PolicyName;
  jobs: number;
  completed: number;
  /** Jobs that never completed: must be 0. */
  lost: number;
  /** Jobs taken from a worker mid-run (scale-in of a busy pod, spot eviction) and run again. */
  interrupted: number;
  gpuHours: number;
  wait: { p50: number; p95: number; p99: number; max: number };
  scaleEvents: number;
  /** One sample a minute: jobs waiting and workers (ready or starting). */
  series: { t: number; waiting: number; workers: number }[];
}

interface Worker {
  id: number;
  /** When its node is ready (provisioning until then). */
  nodeReadyAt: number;
  readyAt: number;
  job?: { arrival: number; end: number };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** Workers a static deployment needs for the trace's busiest five minutes at 80 % utilisation, within max. */
export function staticPeakWorkers(arrivalTimes: readonly number[], settings: SimSettings, max: number): number {
  let peak = 0;
  let lo = 0;
  for (let hi = 0; hi < arrivalTimes.length; hi++) {
    while ((arrivalTimes[hi] as number) - (arrivalTimes[lo] as number) > 300) lo++;
    peak = Math.max(peak, hi - lo + 1);
  }
  const meanService = settings.serviceMedianS * Math.exp((settings.serviceSigma * settings.serviceSigma) / 2);
  return Math.min(max, Math.max(1, Math.ceil(((peak / 300) * meanService) / 0.8)));
}

/**
 * Replays arrivals second by second against one policy. The three-tier policy calls the real
 * libs/scaling code (tier 1 as KEDA with the floor, tiers 2 and 3 on their timers) and scales in idle
 * workers only; KEDA-only sees waiting messages only and scales in any pod after its cooldown.
 */
export function simulate(arrivalTimes: readonly number[], policy: PolicyName, settings: SimSettings, ps: PolicySettings): SimResult {
  const random = rng(settings.seed);
  const uniform = ([a, b]: [number, number]) => a + random() * (b - a);
  const service = () => {
    const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.max(0.2, settings.serviceMedianS * Math.exp(settings.serviceSigma * z));
  };
  const lane = ps.lane;
  const queue: number[] = []; // arrival times, FIFO
  const waits: number[] = [];
  let workers: Worker[] = [];
  let idleNodes: number[] = []; // when each kept node became idle
  let nextId = 1;
  let gpuSeconds = 0;
  let completed = 0;
  let interrupted = 0;
  let scaleEvents = 0;
  let desired = policy === 'static-peak' ? ps.staticWorkers : lane.minReplicas;
  let state: ScalerState = initialState(lane);
  let lowSince: number | undefined;
  const series: SimResult['series'] = [];
  const end = (arrivalTimes.at(-1) ?? 0) + 4 * 3600;
  let next = 0;

  const observe = (t: number): LaneObservation => ({
    at: t * 1000,
    waiting: queue.length,
    inFlight: workers.filter((w) => w.job).length,
    oldestWaitMs: queue.length ? (t - (queue[0] as number)) * 1000 : 0,
    readyWorkers: workers.filter((w) => w.readyAt <= t).length,
    startingWorkers: workers.filter((w) => w.readyAt > t).length,
  });

  const addWorker = (t: number) => {
    const node = idleNodes.shift();
    const nodeReadyAt = node !== undefined ? t : t + uniform(settings.nodeProvisionS);
    workers.push({ id: nextId++, nodeReadyAt, readyAt: nodeReadyAt + uniform(settings.podStartS) });
  };
  const removeWorker = (t: number, w: Worker) => {
    if (w.job) {
      queue.unshift(w.job.arrival); // the job goes back to the queue and runs again
      interrupted += 1;
    }
    workers = workers.filter((x) => x !== w);
    if (w.nodeReadyAt <= t) idleNodes.push(t);
  };

  for (let t = 0; t < end; t++) {
    while (next < arrivalTimes.length && (arrivalTimes[next] as number) < t + 1) queue.push(arrivalTimes[next++] as number);
    for (const w of workers) {
      if (w.job && w.job.end <= t) {
        w.job = undefined;
        completed += 1;
      }
    }
    if (settings.spotEvictionsPerHour > 0) {
      for (const w of [...workers]) if (w.readyAt <= t && random() < settings.spotEvictionsPerHour / 3600) removeWorker(t, w);
    }

    // the policy
    const before = desired;
    const live = workers.length;
    if (policy === 'keda-only' && t % ps.kedaPollS === 0) {
      const want = kedaDesired(queue.length, lane.minReplicas, lane);
      if (want >= live) lowSince = undefined;
      else lowSince ??= t;
      if (want > live || (lowSince !== undefined && t - lowSince >= ps.kedaCooldownS)) desired = want;
    }
    if (policy === 'three-tier') {
      if (t % 30 === 0) state = reactive(observe(t), lane, state).state;
      if (t % (3 * 3600) === 0 && t > 0) state = baseline(observe(t), lane, state).state;
      if (t % 15 === 0) {
        const want = kedaDesired(queue.length, state.floor, lane);
        if (want >= live) lowSince = undefined;
        else lowSince ??= t;
        if (want > live || (lowSince !== undefined && t - lowSince >= ps.kedaCooldownS)) desired = want;
      }
    }
    if (desired !== before) scaleEvents += 1;
    while (workers.length < desired) addWorker(t);
    if (workers.length > desired) {
      if (policy === 'three-tier') {
        // drain only workers without a job (never one mid-job); a worker still starting has none
        for (const w of [...workers].reverse()) if (workers.length > desired && !w.job) removeWorker(t, w);
      } else {
        for (const w of [...workers].reverse()) if (workers.length > desired) removeWorker(t, w);
      }
    }

    // dispatch, FIFO, to ready idle workers
    for (const w of workers) {
      if (queue.length === 0) break;
      if (w.readyAt <= t && !w.job) {
        const arrival = queue.shift() as number;
        waits.push(Math.max(0, t - arrival));
        w.job = { arrival, end: t + service() };
      }
    }

    idleNodes = idleNodes.filter((since) => t - since < settings.nodeKeepS);
    gpuSeconds += workers.length + idleNodes.length; // a node costs from the request until the autoscaler removes it
    if (t % 60 === 0) series.push({ t, waiting: queue.length, workers: workers.length });
    if (next >= arrivalTimes.length && queue.length === 0 && workers.every((w) => !w.job) && t > (arrivalTimes.at(-1) ?? 0) + 600) break;
  }

  const sorted = [...waits].sort((a, b) => a - b);
  return {
    policy,
    jobs: arrivalTimes.length,
    completed,
    lost: arrivalTimes.length - completed,
    interrupted,
    gpuHours: gpuSeconds / 3600,
    wait: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
    scaleEvents,
    series,
  };
}

/**
 * The lane policy the simulator compares by default: min 1, max 200, KEDA target 2 waiting jobs per worker
 * (the scaler's default),
 * tier 3 on the median of the day's hourly peaks with a 30-minute cooldown. Override per run to plan capacity.
 */
export const SIM_LANE_POLICY: Partial<LanePolicy> = {
  minReplicas: 1,
  maxReplicas: 200,
  targetMessagesPerWorker: 2,
  baselineStatistic: { percentile: 50 },
  scaleDownCooldownMs: 30 * 60_000,
};

export function defaultPolicySettings(
  arrivalTimes: readonly number[],
  settings: SimSettings,
  lane: Partial<LanePolicy> = {},
): PolicySettings {
  const policy: LanePolicy = { ...DEFAULT_POLICY, ...SIM_LANE_POLICY, ...lane };
  return { lane: policy, staticWorkers: staticPeakWorkers(arrivalTimes, settings, policy.maxReplicas), kedaPollS: 30, kedaCooldownS: 300 };
}
