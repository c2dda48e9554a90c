// npm run bench [-- --suite all|queue|platform|waiters|simulate --runs 5 --messages 20000 --batch 32 --images 40 --seconds 5
//                   --long-polls 10000 --streams 2000]
// Prints each figure as the median of several runs, next to a baseline measured in the same run.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { workspaceRoot } from '@gpu-jobs/testing';
import { embeddedQueueConsumerProcesses, embeddedQueueOneConsumer, rawSqliteBaseline } from './queue-bench';
import { ocrDirect, submitRate, throughPlatform, workerStart } from './platform-bench';
import { waiters } from './waiters-bench';
import { formatRate, median, percentile } from './stats';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
    suite: { type: 'string', default: 'all' },
    images: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '5' },
    'long-polls': { type: 'string', default: '10000' },
    streams: { type: 'string', default: '2000' },
  },
});
const messages = Number(values.messages);
const runs = Number(values.runs);
const batch = Number(values.batch);
for (const [name, v] of Object.entries({ messages, runs, batch })) {
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${name} must be a positive integer`);
    process.exit(2);
  }
}

async function medianOf(measure: () => number | Promise<number>): Promise<number> {
  const results: number[] = [];
  for (let r = 0; r < runs; r++) results.push(await measure());
  return median(results);
}

const suite = values.suite;
if (!['all', 'queue', 'platform', 'waiters', 'simulate'].includes(suite)) {
  console.error('--suite must be all, queue, platform, waiters or simulate');
  process.exit(2);
}

if (suite === 'all' || suite === 'queue') await queueSuite();
if (suite === 'all' || suite === 'platform') await platformSuite();
if (suite === 'all' || suite === 'waiters') await waitersSuite();
if (suite === 'all' || suite === 'simulate') simulateSuite();

/** The autoscaling simulator on its shipped traces (its own tool; deterministic, so one run). */
function simulateSuite(): void {
  console.log('\n# autoscaling policies replayed on the shipped traces (npm run simulate)');
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'tools/simulator/src/main.ts'], {
    cwd: workspaceRoot(),
    env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.base.json' },
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`the simulator exited with ${r.status}`);
}

async function queueSuite(): Promise<void> {
  const options = { messages, batch };
  console.log(`# embedded queue: send + receive + complete, ${messages} messages, batches of ${batch}, median of ${runs} runs`);
  console.log(`# node ${process.version}, ${process.platform}-${process.arch}`);
  const baseline = await medianOf(() => rawSqliteBaseline(options));
  console.log(`baseline  raw node:sqlite insert + delete of the same rows   ${formatRate(baseline).padStart(16)}`);
  const one = await medianOf(() => embeddedQueueOneConsumer(options));
  console.log(
    `queue     1 consumer (in process)                           ${formatRate(one).padStart(16)}   ${(one / baseline).toFixed(2)} x baseline`,
  );
  const four = await medianOf(() => embeddedQueueConsumerProcesses(options, 4));
  console.log(
    `queue     4 consumer processes                              ${formatRate(four).padStart(16)}   ${(four / baseline).toFixed(2)} x baseline`,
  );
}

async function platformSuite(): Promise<void> {
  const images = Number(values.images);
  const options = { images, latencySamples: 30, loadSeconds: Number(values.seconds), connections: 16 };
  const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
  console.log(`\n# OCR through the platform (gateway + 1 worker, embedded adapters), ${images} images, ${runs} runs`);
  const direct: number[] = [];
  const platform: number[] = [];
  const perImage: number[] = [];
  const latencies: number[] = [];
  for (let r = 0; r < runs; r++) {
    const d = await ocrDirect(images);
    direct.push(d.imagesPerSecond);
    perImage.push(...d.perImage);
    const p = await throughPlatform(options);
    platform.push(p.imagesPerSecond);
    latencies.push(...p.latencies);
  }
  const directRate = median(direct);
  const platformRate = median(platform);
  console.log(`baseline  OCR pipeline called in process                        ${directRate.toFixed(2).padStart(8)} images/s`);
  console.log(
    `platform  submit all, one worker, until the last result        ${platformRate.toFixed(2).padStart(8)} images/s   ${(platformRate / directRate).toFixed(3)} x baseline`,
  );
  const pipeline = median(perImage);
  const overhead = latencies.map((l) => l - pipeline);
  console.log(
    `latency   one job at a time: client submit -> result            p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))} (${latencies.length} jobs)`,
  );
  console.log(
    `overhead  latency minus the median in-process pipeline time (${ms(pipeline)})   p50 ${ms(percentile(overhead, 50))}, p99 ${ms(percentile(overhead, 99))}`,
  );

  console.log(`\n# gateway submit rate: autocannon, ${options.connections} connections, ${options.loadSeconds} s each, ${runs} runs`);
  const bare: number[] = [];
  const gw: number[] = [];
  let detail = '';
  for (let r = 0; r < runs; r++) {
    const s = await submitRate(options);
    bare.push(s.bare.rps);
    gw.push(s.gateway.rps);
    detail = `body ${s.bodyBytes} B; last run: gateway p50 ${s.gateway.p50} ms, p99 ${s.gateway.p99} ms, errors ${s.gateway.errors}, non-2xx ${s.gateway.non2xx}`;
  }
  console.log(
    `baseline  bare Fastify POST, same body                         ${Math.round(median(bare)).toLocaleString('en-US').padStart(8)} req/s`,
  );
  console.log(
    `gateway   POST /v1/jobs (JWT, input blob, job row, message)     ${Math.round(median(gw)).toLocaleString('en-US').padStart(8)} jobs/s   ${(median(gw) / median(bare)).toFixed(3)} x baseline`,
  );
  console.log(`          ${detail}`);

  const start = await workerStart(Math.max(3, runs));
  console.log(
    `\n# worker start to ready (${start.bundled ? 'esbuild bundle, node main.js' : 'TypeScript through tsx; run nx build worker for the bundle'}), ${start.seconds.length} runs`,
  );
  console.log(
    `worker    process start -> /health/ready (models loaded, warmed)  median ${median(start.seconds).toFixed(2)} s, RSS when ready median ${median(start.rssMiB).toFixed(0)} MiB`,
  );
}

/** Open waits on one gateway: liveness and submits with none open (baseline) and with all of them open. */
async function waitersSuite(): Promise<void> {
  const longPolls = Number(values['long-polls']);
  const streams = Number(values.streams);
  const seconds = Number(values.seconds);
  console.log(
    `\n# open waits on one gateway: ${longPolls} long-polls + ${streams} event streams, a submit every 50 ms, ${seconds} s per phase, ${runs} runs`,
  );
  const results: Awaited<ReturnType<typeof waiters>>[] = [];
  for (let r = 0; r < runs; r++) results.push(await waiters({ longPolls, streams, jobs: 1_000, seconds }));
  const med = (f: (x: (typeof results)[number]) => number) => median(results.map(f));
  const ms = (v: number) => `${v.toFixed(1)} ms`;
  console.log(
    `baseline  no waits open      /health/live p50 ${ms(med((x) => x.baseline.liveP50))}, p99 ${ms(med((x) => x.baseline.liveP99))}; submit p50 ${ms(med((x) => x.baseline.submitP50))}, p99 ${ms(med((x) => x.baseline.submitP99))}`,
  );
  console.log(
    `loaded    ${longPolls + streams} waits open   /health/live p50 ${ms(med((x) => x.loaded.liveP50))}, p99 ${ms(med((x) => x.loaded.liveP99))} (aim < 50 ms); submit p50 ${ms(med((x) => x.loaded.submitP50))}, p99 ${ms(med((x) => x.loaded.submitP99))}, ${med((x) => x.loaded.submits)} served`,
  );
  console.log(
    `memory    ${(med((x) => x.rssBytesPerWait) / 1024).toFixed(1)} KiB of gateway RSS per open wait; liveness p99 ratio loaded/baseline ${(med((x) => x.loaded.liveP99) / med((x) => x.baseline.liveP99)).toFixed(2)}`,
  );
}
