// npm run chaos -- --jobs 300 --kill-every 2 [--seed 1]
// Runs the platform on a temporary data directory, submits the jobs while killing and freezing workers and
// restarting the gateway, then checks every job terminal, none lost or doubled, one terminal webhook each, the
// budget equal to the charges and the SQLite files intact. Prints the report; exits 1 when an invariant broke.
import { parseArgs } from 'node:util';
import { runChaos } from './chaos';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '300' },
    'kill-every': { type: 'string', default: '2' },
    seed: { type: 'string', default: '1' },
  },
});
const jobs = Number(values.jobs);
const killEverySeconds = Number(values['kill-every']);
const seed = Number(values.seed);
if (!Number.isInteger(jobs) || jobs < 1 || !(killEverySeconds > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run chaos -- --jobs <n> --kill-every <seconds> [--seed <n>]');
  process.exit(2);
}
const report = await runChaos({ jobs, killEverySeconds, seed, log: (line) => console.error(line) });
console.log(JSON.stringify(report, null, 2));
process.exit(report.violations.length === 0 ? 0 : 1);
