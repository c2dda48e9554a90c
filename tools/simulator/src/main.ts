// npm run simulate -- <trace name or file> [--policy static-peak,keda-only,three-tier] [--out dir] [--seed n]
// Replays a job-arrival trace against the scaling policies and prints GPU-hours, queue waits, jobs lost,
// interrupted jobs and scale events per policy, with an SVG of backlog and workers over time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTrace } from './run';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { policy: { type: 'string' }, out: { type: 'string', default: 'dist/simulator' }, seed: { type: 'string' } },
});
const tracesDir = fileURLToPath(new URL('../traces', import.meta.url));
const names = positionals.length > 0 ? positionals : ['steady-low', 'burst', 'diurnal'];
mkdirSync(values.out, { recursive: true });
for (const name of names) {
  const run = runTrace(name, tracesDir, {
    ...(values.policy ? { policies: values.policy.split(',') } : {}),
    ...(values.seed ? { seed: Number(values.seed) } : {}),
  });
  console.log(run.table);
  const svgPath = join(values.out, `simulation-${run.trace}.svg`);
  writeFileSync(svgPath, run.svg);
  console.log(`  plot: ${svgPath}\n`);
}
