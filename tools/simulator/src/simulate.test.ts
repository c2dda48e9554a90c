import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTrace } from './run';
import { DEFAULT_SETTINGS, defaultPolicySettings, simulate, staticPeakWorkers } from './simulate';
import { arrivals, rng } from './trace';

const tracesDir = fileURLToPath(new URL('../traces', import.meta.url));

describe('traces', () => {
  it('are the same every time (seeded) and follow their rates', () => {
    const a = arrivals({
      name: 't',
      seed: 5,
      segments: [
        { minutes: 10, perMinute: 60 },
        { minutes: 10, perMinute: 6 },
      ],
    });
    const b = arrivals({
      name: 't',
      seed: 5,
      segments: [
        { minutes: 10, perMinute: 60 },
        { minutes: 10, perMinute: 6 },
      ],
    });
    expect(a).toEqual(b);
    const first = a.filter((t) => t < 600).length;
    const second = a.filter((t) => t >= 600).length;
    expect(first).toBeGreaterThan(500);
    expect(first).toBeLessThan(700);
    expect(second).toBeGreaterThan(30);
    expect(second).toBeLessThan(100);
    expect(new Set(Array.from({ length: 1000 }, rng(1))).size).toBe(1000);
  });
});

describe('simulate', () => {
  const times = arrivals({
    name: 'mini',
    seed: 9,
    segments: [
      { minutes: 20, perMinute: 4 },
      { minutes: 10, perMinute: 90 },
      { minutes: 30, perMinute: 4 },
    ],
  });
  const settings = { ...DEFAULT_SETTINGS, nodeProvisionS: [120, 180] as [number, number] };
  const ps = defaultPolicySettings(times, settings, { maxReplicas: 60 });

  it('loses no job under any policy, and the three tiers never take a job from a worker mid-run', () => {
    for (const policy of ['static-peak', 'keda-only', 'three-tier'] as const) {
      const r = simulate(times, policy, settings, ps);
      expect(r.lost, policy).toBe(0);
      expect(r.completed).toBe(times.length);
      expect(r.gpuHours).toBeGreaterThan(0);
      if (policy === 'three-tier') expect(r.interrupted).toBe(0);
      if (policy === 'static-peak') expect(r.scaleEvents).toBe(0);
    }
  });

  it('is deterministic for a seed', () => {
    expect(simulate(times, 'three-tier', settings, ps)).toEqual(simulate(times, 'three-tier', settings, ps));
  });

  it('sizes static peak provisioning from the busiest five minutes', () => {
    const steady = Array.from({ length: 600 }, (_, i) => i); // one a second
    const mean = DEFAULT_SETTINGS.serviceMedianS * Math.exp(DEFAULT_SETTINGS.serviceSigma ** 2 / 2);
    expect(staticPeakWorkers(steady, DEFAULT_SETTINGS, 1000)).toBe(Math.ceil(mean / 0.8));
    expect(staticPeakWorkers(steady, DEFAULT_SETTINGS, 5)).toBe(5);
  });

  it('runs a shipped trace and prints the table with an SVG', () => {
    const run = runTrace('steady-low', tracesDir);
    expect(run.table).toContain('three-tier');
    expect(run.table.split('\n')).toHaveLength(5);
    expect(run.svg.startsWith('<svg')).toBe(true);
    expect(run.results.every((r) => r.lost === 0)).toBe(true);
  });
});
