import { describe, expect, it } from 'vitest';
import { runChaos } from './chaos';

describe('chaos (a small run; npm run chaos for a large one)', () => {
  it('through killed and frozen workers and gateway restarts: every job terminal once, nothing lost or doubled', async () => {
    // the last job waits for the third fault, however slowly a busy machine restarts processes
    const report = await runChaos({ jobs: 150, killEverySeconds: 1.5, seed: 7, minFaults: 3 });
    console.log(JSON.stringify({ chaos: report }));
    expect(report.violations).toEqual([]);
    expect(report.faults['worker-killed'] + report.faults['worker-frozen'] + report.faults['gateway-restarted']).toBeGreaterThanOrEqual(3);
    expect(report.statuses['succeeded']).toBe(150);
  });
});
