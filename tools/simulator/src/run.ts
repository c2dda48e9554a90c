import { plotSvg } from './plot';
import { DEFAULT_SETTINGS, POLICIES, defaultPolicySettings, simulate, type PolicyName, type SimResult } from './simulate';
import { arrivals, loadTrace } from './trace';

export interface TraceRun {
  trace: string;
  results: SimResult[];
  table: string;
  svg: string;
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

/** Runs one trace against the policies and formats the comparison (ratios against static-peak and KEDA-only). */
export function runTrace(nameOrPath: string, tracesDir: string, options: { policies?: string[]; seed?: number } = {}): TraceRun {
  const trace = loadTrace(nameOrPath, tracesDir);
  const times = arrivals(trace);
  const settings = { ...DEFAULT_SETTINGS, ...(options.seed !== undefined ? { seed: options.seed } : {}) };
  const ps = defaultPolicySettings(times, settings);
  const policies = (options.policies ?? POLICIES) as PolicyName[];
  for (const p of policies) if (!POLICIES.includes(p)) throw new Error(`unknown policy ${p}; one of ${POLICIES.join(', ')}`);
  const results = policies.map((p) => simulate(times, p, settings, ps));
  const byName = new Map(results.map((r) => [r.policy, r]));
  const ratio = (r: SimResult, base?: SimResult) => (base ? `${(r.gpuHours / base.gpuHours).toFixed(2)}x` : '-');
  const lines = [
    `# ${trace.name}: ${trace.description ?? ''} (${times.length} jobs; nodes ${settings.nodeProvisionS[0] / 60}-${settings.nodeProvisionS[1] / 60} min, pods ${settings.podStartS[0]}-${settings.podStartS[1]} s, service median ${settings.serviceMedianS} s; static peak = ${ps.staticWorkers} workers; lane min ${ps.lane.minReplicas}, max ${ps.lane.maxReplicas})`,
    `${'policy'.padEnd(12)}${pad('GPU-h', 8)}${pad('vs static', 10)}${pad('vs KEDA', 9)}${pad('p50 s', 7)}${pad('p95 s', 7)}${pad('p99 s', 7)}${pad('lost', 6)}${pad('rerun', 7)}${pad('scale ev', 10)}`,
    ...results.map(
      (r) =>
        `${r.policy.padEnd(12)}${pad(r.gpuHours.toFixed(1), 8)}${pad(ratio(r, byName.get('static-peak')), 10)}${pad(ratio(r, byName.get('keda-only')), 9)}${pad(r.wait.p50.toFixed(0), 7)}${pad(r.wait.p95.toFixed(0), 7)}${pad(r.wait.p99.toFixed(0), 7)}${pad(r.lost, 6)}${pad(r.interrupted, 7)}${pad(r.scaleEvents, 10)}`,
    ),
  ];
  return { trace: trace.name, results, table: lines.join('\n'), svg: plotSvg(`${trace.name}: jobs waiting and workers`, results) };
}
