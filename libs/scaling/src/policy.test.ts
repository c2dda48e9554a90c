import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kedaDesired, kedaSettings } from './keda';
import {
  DEFAULT_POLICY,
  baseline,
  initialState,
  reactive,
  scheduledFloor,
  windowStatistic,
  workersFor,
  type LaneObservation,
  type LanePolicy,
  type ScalerState,
} from './policy';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5, 12); // a Monday, noon UTC
const policy: LanePolicy = { ...DEFAULT_POLICY, minReplicas: 1, maxReplicas: 8, jobsPerWorker: 1, scaleDownCooldownMs: 30 * 60_000 };
const obs = (o: Partial<LaneObservation> = {}): LaneObservation => ({
  at: T0,
  waiting: 0,
  inFlight: 0,
  oldestWaitMs: 0,
  readyWorkers: 1,
  startingWorkers: 0,
  ...o,
});

describe('tier 2: reactive monitor', () => {
  it('raises the floor at once when waiting + running jobs exceed ready + starting workers', () => {
    const d = reactive(obs({ waiting: 3, inFlight: 2, readyWorkers: 2 }), policy, initialState(policy));
    expect(d).toMatchObject({ floor: 5, changed: true, state: { floor: 5, lastRaisedAt: T0 } });
    expect(d.reason).toBe('raised the floor from 1 to 5: 3 waiting + 2 running need 5 workers, 2 ready or starting');
  });

  it('counts in-flight jobs, which a queue-depth scaler does not see', () => {
    // nothing waiting, 4 running on 2 workers (say, a restart lost two): KEDA sees 0, the monitor sees 4
    expect(reactive(obs({ waiting: 0, inFlight: 4, readyWorkers: 2 }), policy, initialState(policy)).floor).toBe(4);
  });

  it('is bounded by max and says so', () => {
    const d = reactive(obs({ waiting: 100 }), policy, initialState(policy));
    expect(d.floor).toBe(8);
    expect(d.reason).toContain('capped at max 8');
  });

  it('does nothing when capacity covers demand, and never lowers', () => {
    expect(reactive(obs({ waiting: 1, readyWorkers: 2 }), policy, initialState(policy))).toMatchObject({ changed: false, floor: 1 });
    const high: ScalerState = { floor: 6, hourlyPeaks: {} };
    expect(reactive(obs({ waiting: 0, readyWorkers: 6 }), policy, high)).toMatchObject({ changed: false, floor: 6 });
  });

  it('counts workers by slots', () => {
    expect(workersFor(5, { jobsPerWorker: 2 })).toBe(3);
    const d = reactive(obs({ waiting: 5, readyWorkers: 1 }), { ...policy, jobsPerWorker: 2 }, initialState(policy));
    expect(d.floor).toBe(3);
  });

  it("records each hour's peak demand for the baseline", () => {
    let s = initialState(policy);
    s = reactive(obs({ waiting: 3 }), policy, s).state;
    s = reactive(obs({ waiting: 1, at: T0 + 60_000 }), policy, s).state;
    s = reactive(obs({ waiting: 2, at: T0 + HOUR }), policy, s).state;
    expect(Object.values(s.hourlyPeaks)).toEqual([3, 2]);
  });
});

describe('tier 3: baseline adjuster', () => {
  const withPeaks = (peaks: number[], floor = 1, extra: Partial<ScalerState> = {}): ScalerState => ({
    floor,
    hourlyPeaks: Object.fromEntries(peaks.map((p, i) => [String(T0 - (peaks.length - i) * HOUR), p])),
    ...extra,
  });

  it('sets the floor from the peak of the window, within bounds', () => {
    expect(baseline(obs(), policy, withPeaks([1, 4, 2]))).toMatchObject({ floor: 4, changed: true });
    expect(baseline(obs(), policy, withPeaks([20]))).toMatchObject({ floor: 8 });
    expect(baseline(obs(), { ...policy, minReplicas: 2 }, withPeaks([0]))).toMatchObject({ floor: 2 });
  });

  it('can use a percentile of the hourly peaks instead', () => {
    const peaks = [1, 1, 1, 1, 1, 1, 1, 1, 1, 7];
    expect(baseline(obs(), { ...policy, baselineStatistic: { percentile: 90 } }, withPeaks(peaks)).floor).toBe(1);
    expect(baseline(obs(), { ...policy, baselineStatistic: 'peak' }, withPeaks(peaks)).floor).toBe(7);
    expect(windowStatistic([5, 1, 3], { percentile: 50 })).toBe(3);
    expect(windowStatistic([], 'peak')).toBe(0);
  });

  it('forgets peaks older than the window', () => {
    const old: ScalerState = { floor: 1, hourlyPeaks: { [String(T0 - 30 * HOUR)]: 6 } };
    expect(baseline(obs(), policy, old).floor).toBe(1);
  });

  it('lowers only after the cooldown since the last raise, and by at least the step', () => {
    const raised = withPeaks([2], 6, { lastRaisedAt: T0 - 10 * 60_000 });
    const early = baseline(obs(), policy, raised);
    expect(early).toMatchObject({ changed: false, floor: 6 });
    expect(early.reason).toContain('cooldown');
    const later = baseline(obs(), policy, { ...raised, lastRaisedAt: T0 - 60 * 60_000 });
    expect(later).toMatchObject({ changed: true, floor: 2, state: { lastLoweredAt: T0 } });
    expect(baseline(obs(), { ...policy, scaleDownStep: 5 }, { ...raised, lastRaisedAt: 0 })).toMatchObject({ changed: false });
  });

  it('never drops below the workers the running jobs need', () => {
    expect(baseline(obs({ inFlight: 5, readyWorkers: 5 }), policy, withPeaks([0], 6, { lastRaisedAt: 0 })).floor).toBe(5);
  });

  it('follows a time-of-day schedule', () => {
    const office = {
      ...policy,
      schedule: [
        { fromHour: 8, toHour: 18, minReplicas: 3 },
        { fromHour: 22, toHour: 2, minReplicas: 2 },
      ],
    };
    expect(scheduledFloor(T0, office.schedule)).toBe(3);
    expect(scheduledFloor(Date.UTC(2026, 0, 5, 23), office.schedule)).toBe(2);
    expect(scheduledFloor(Date.UTC(2026, 0, 5, 1), office.schedule)).toBe(2);
    expect(scheduledFloor(Date.UTC(2026, 0, 5, 5), office.schedule)).toBe(0);
    expect(baseline(obs(), office, withPeaks([1])).floor).toBe(3);
  });
});

describe('tier 1: KEDA', () => {
  it('computes the ScaledObject trigger settings', () => {
    expect(kedaSettings('small-gpu', 'ns.servicebus.windows.net', { ...policy, targetMessagesPerWorker: 2, jobsPerWorker: 2 })).toEqual({
      minReplicaCount: 1,
      maxReplicaCount: 8,
      pollingInterval: 15,
      cooldownPeriod: 300,
      triggers: [
        {
          type: 'azure-servicebus',
          metadata: { queueName: 'small-gpu', namespace: 'ns.servicebus.windows.net', messageCount: '4', activationMessageCount: '0' },
          authenticationRef: { name: 'servicebus-workload-identity' },
        },
      ],
    });
    expect(kedaDesired(9, 1, { ...policy, targetMessagesPerWorker: 2 })).toBe(5);
    expect(kedaDesired(0, 3, policy)).toBe(3);
    expect(kedaDesired(1000, 1, policy)).toBe(8);
  });
});

describe('invariants over random histories', () => {
  const anyPolicy = fc.record({
    minReplicas: fc.integer({ min: 0, max: 3 }),
    span: fc.integer({ min: 0, max: 10 }),
    jobsPerWorker: fc.integer({ min: 1, max: 4 }),
    cooldownMin: fc.integer({ min: 0, max: 120 }),
    step: fc.integer({ min: 1, max: 3 }),
  });
  const anyObs = fc.record({
    dt: fc.integer({ min: 1_000, max: 3 * HOUR }),
    waiting: fc.integer({ min: 0, max: 60 }),
    inFlight: fc.integer({ min: 0, max: 30 }),
    ready: fc.integer({ min: 0, max: 15 }),
    starting: fc.integer({ min: 0, max: 5 }),
    tier: fc.constantFrom('reactive', 'baseline'),
  });

  it('the floor stays in bounds, covers running jobs after a baseline, only tier 3 lowers it, never within the cooldown, and a repeat changes nothing', () => {
    fc.assert(
      fc.property(anyPolicy, fc.array(anyObs, { minLength: 1, maxLength: 40 }), (p, history) => {
        const pol: LanePolicy = {
          ...DEFAULT_POLICY,
          minReplicas: p.minReplicas,
          maxReplicas: p.minReplicas + p.span,
          jobsPerWorker: p.jobsPerWorker,
          scaleDownCooldownMs: p.cooldownMin * 60_000,
          scaleDownStep: p.step,
        };
        let state = initialState(pol);
        let at = T0;
        for (const h of history) {
          at += h.dt;
          const o = obs({ at, waiting: h.waiting, inFlight: h.inFlight, readyWorkers: h.ready, startingWorkers: h.starting });
          const d = h.tier === 'reactive' ? reactive(o, pol, state) : baseline(o, pol, state);
          expect(d.floor).toBeGreaterThanOrEqual(pol.minReplicas);
          expect(d.floor).toBeLessThanOrEqual(pol.maxReplicas);
          expect(d.reason.length).toBeGreaterThan(10);
          expect(d.changed).toBe(d.floor !== state.floor);
          if (h.tier === 'reactive') expect(d.floor).toBeGreaterThanOrEqual(state.floor);
          if (h.tier === 'baseline') expect(d.floor).toBeGreaterThanOrEqual(Math.min(pol.maxReplicas, workersFor(h.inFlight, pol)));
          if (d.floor < state.floor && state.lastRaisedAt !== undefined)
            expect(at - state.lastRaisedAt).toBeGreaterThanOrEqual(pol.scaleDownCooldownMs);
          // no flapping: the same observation again right away changes nothing
          const again = h.tier === 'reactive' ? reactive(o, pol, d.state) : baseline(o, pol, d.state);
          expect(again.changed).toBe(false);
          state = d.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});
