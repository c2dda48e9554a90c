/** What the scaler knows about one lane at one moment. */
export interface LaneObservation {
  /** Epoch ms. */
  at: number;
  /** Jobs waiting: messages ready in the lane's queue plus jobs held by the fair dispatcher. */
  waiting: number;
  /** Jobs running (locked messages): what KEDA's Service Bus scaler does not see. */
  inFlight: number;
  /** Age of the oldest waiting job, ms. */
  oldestWaitMs: number;
  readyWorkers: number;
  startingWorkers: number;
}

export interface ScheduleEntry {
  /** UTC hours [fromHour, toHour), e.g. 8 to 18 for office hours; toHour < fromHour wraps midnight. */
  fromHour: number;
  toHour: number;
  minReplicas: number;
}

/** One lane's scaling settings. */
export interface LanePolicy {
  minReplicas: number;
  maxReplicas: number;
  /** Jobs one worker runs at once (WORKER_CONCURRENCY). */
  jobsPerWorker: number;
  /** After raising the floor, no lowering for this long (hysteresis against flapping). */
  scaleDownCooldownMs: number;
  /** The floor is lowered only when the new one is at least this many workers lower. */
  scaleDownStep: number;
  /** Tier 3: how far back the baseline adjuster looks. */
  baselineWindowMs: number;
  /** Tier 3: the peak of the window, or a percentile of its hourly peaks (0-100). */
  baselineStatistic: 'peak' | { percentile: number };
  /** Tier 3: a floor by time of day, on top of the baseline. */
  schedule?: ScheduleEntry[];
  /** Tier 1 (KEDA): messages per replica it aims for. */
  targetMessagesPerWorker: number;
}

export const DEFAULT_POLICY: LanePolicy = {
  minReplicas: 0,
  maxReplicas: 10,
  jobsPerWorker: 1,
  scaleDownCooldownMs: 30 * 60_000,
  scaleDownStep: 1,
  baselineWindowMs: 24 * 3_600_000,
  baselineStatistic: 'peak',
  targetMessagesPerWorker: 1,
};

/** What the scaler remembers between runs (kept with the lane: a ScaledObject annotation, or the local pool). */
export interface ScalerState {
  /** The floor (KEDA minReplicaCount) the scaler last set. */
  floor: number;
  lastRaisedAt?: number;
  lastLoweredAt?: number;
  /** Peak worker demand per bucket (epoch ms of the bucket's start; an hour, or a quarter of a shorter window). */
  hourlyPeaks: Record<string, number>;
}

export interface Decision {
  /** The floor to set. */
  floor: number;
  changed: boolean;
  /** Why, in words an operator reads in a log line. */
  reason: string;
  state: ScalerState;
}

export function initialState(policy: LanePolicy): ScalerState {
  return { floor: policy.minReplicas, hourlyPeaks: {} };
}

const HOUR = 3_600_000;

/** Peaks are kept per hour, or per quarter of the window when the window is shorter than four hours. */
export function bucketMs(policy: Pick<LanePolicy, 'baselineWindowMs'>): number {
  return Math.max(1_000, Math.min(HOUR, Math.floor(policy.baselineWindowMs / 4)));
}

/** The buckets that overlap the window ending at `at`. */
function inWindow(state: ScalerState, at: number, policy: LanePolicy): [string, number][] {
  const size = bucketMs(policy);
  return Object.entries(state.hourlyPeaks).filter(([k]) => Number(k) + size > at - policy.baselineWindowMs);
}

/** Workers needed for a number of jobs. */
export function workersFor(jobs: number, policy: Pick<LanePolicy, 'jobsPerWorker'>): number {
  return Math.ceil(Math.max(0, jobs) / Math.max(1, policy.jobsPerWorker));
}

function clamp(n: number, policy: LanePolicy): number {
  return Math.min(policy.maxReplicas, Math.max(policy.minReplicas, n));
}

/** Records this observation's demand as its hour's peak and forgets hours older than the window. */
export function recordPeak(state: ScalerState, obs: LaneObservation, policy: LanePolicy): ScalerState {
  const size = bucketMs(policy);
  const bucket = Math.floor(obs.at / size) * size;
  const demand = demandOf(obs, policy);
  const peaks: Record<string, number> = Object.fromEntries(inWindow(state, obs.at, policy));
  peaks[String(bucket)] = Math.max(peaks[String(bucket)] ?? 0, demand);
  return { ...state, hourlyPeaks: peaks };
}

/**
 * Workers the lane's jobs need now: one slot per running job, and the waiting ones at the same rate KEDA
 * counts them (targetMessagesPerWorker per worker), so a backlog of short jobs does not ask for a worker each.
 */
export function demandOf(
  obs: Pick<LaneObservation, 'waiting' | 'inFlight'>,
  policy: Pick<LanePolicy, 'jobsPerWorker' | 'targetMessagesPerWorker'>,
): number {
  const perWorker = Math.max(1, policy.targetMessagesPerWorker) * Math.max(1, policy.jobsPerWorker);
  return workersFor(obs.inFlight, policy) + Math.ceil(Math.max(0, obs.waiting) / perWorker);
}

/**
 * Tier 2, the reactive monitor (every 30 s): when the jobs waiting and running need more workers than are
 * ready or starting, raise the floor to that number at once (bounded by max), so KEDA (which sees only
 * waiting messages) cannot scale in below the work in hand. It never lowers the floor: that is tier 3's job.
 */
export function reactive(obs: LaneObservation, policy: LanePolicy, previous: ScalerState): Decision {
  const state = recordPeak(previous, obs, policy);
  const demand = demandOf(obs, policy);
  const capacity = obs.readyWorkers + obs.startingWorkers;
  const want = clamp(demand, policy);
  if (demand > capacity && want > state.floor) {
    return {
      floor: want,
      changed: true,
      reason: `raised the floor from ${state.floor} to ${want}: ${obs.waiting} waiting + ${obs.inFlight} running need ${demand} workers, ${capacity} ready or starting${demand > policy.maxReplicas ? ` (capped at max ${policy.maxReplicas})` : ''}`,
      state: { ...state, floor: want, lastRaisedAt: obs.at },
    };
  }
  const why =
    demand <= capacity
      ? `${demand} workers needed, ${capacity} ready or starting`
      : `${demand} workers needed; the floor ${state.floor} already covers ${want}`;
  return { floor: state.floor, changed: false, reason: `kept the floor at ${state.floor}: ${why}`, state };
}

/** The schedule's floor at this moment, 0 when no entry covers it. */
export function scheduledFloor(at: number, schedule: readonly ScheduleEntry[] = []): number {
  const hour = new Date(at).getUTCHours();
  let floor = 0;
  for (const e of schedule) {
    const inside = e.fromHour <= e.toHour ? hour >= e.fromHour && hour < e.toHour : hour >= e.fromHour || hour < e.toHour;
    if (inside) floor = Math.max(floor, e.minReplicas);
  }
  return floor;
}

/** The window's hourly peaks reduced to one number: the peak, or a percentile (nearest rank). */
export function windowStatistic(peaks: readonly number[], statistic: LanePolicy['baselineStatistic']): number {
  if (peaks.length === 0) return 0;
  const sorted = [...peaks].sort((a, b) => a - b);
  if (statistic === 'peak') return sorted[sorted.length - 1] as number;
  const rank = Math.ceil((Math.min(100, Math.max(0, statistic.percentile)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)] as number;
}

/**
 * Tier 3, the baseline adjuster (every 3 h): the floor becomes the window's peak demand (or a percentile),
 * at least the schedule's floor, within [min, max], and never below the workers the running jobs need.
 * Raising is immediate; lowering waits out the cooldown after the last raise and needs a step of at least
 * scaleDownStep, so the floor does not flap.
 */
export function baseline(obs: LaneObservation, policy: LanePolicy, previous: ScalerState): Decision {
  const state = recordPeak(previous, obs, policy);
  const stat = windowStatistic(
    inWindow(state, obs.at, policy).map(([, v]) => v),
    policy.baselineStatistic,
  );
  const scheduled = scheduledFloor(obs.at, policy.schedule);
  const running = workersFor(obs.inFlight, policy);
  const target = clamp(Math.max(stat, scheduled, running), policy);
  const basis = `window ${policy.baselineStatistic === 'peak' ? 'peak' : `p${policy.baselineStatistic.percentile}`} ${stat}, schedule ${scheduled}, running jobs need ${running}, bounds [${policy.minReplicas}, ${policy.maxReplicas}]`;
  if (target > state.floor) {
    return {
      floor: target,
      changed: true,
      reason: `raised the floor from ${state.floor} to ${target} (${basis})`,
      state: { ...state, floor: target, lastRaisedAt: obs.at },
    };
  }
  if (target < state.floor) {
    const sinceRaise = state.lastRaisedAt === undefined ? Infinity : obs.at - state.lastRaisedAt;
    if (sinceRaise < policy.scaleDownCooldownMs) {
      return {
        floor: state.floor,
        changed: false,
        reason: `kept the floor at ${state.floor}: it was raised ${Math.round(sinceRaise / 60_000)} min ago, within the ${Math.round(policy.scaleDownCooldownMs / 60_000)} min cooldown (${basis})`,
        state,
      };
    }
    if (state.floor - target < policy.scaleDownStep) {
      return {
        floor: state.floor,
        changed: false,
        reason: `kept the floor at ${state.floor}: ${target} is less than ${policy.scaleDownStep} below it (${basis})`,
        state,
      };
    }
    return {
      floor: target,
      changed: true,
      reason: `lowered the floor from ${state.floor} to ${target} (${basis})`,
      state: { ...state, floor: target, lastLoweredAt: obs.at },
    };
  }
  return { floor: state.floor, changed: false, reason: `kept the floor at ${state.floor} (${basis})`, state };
}
