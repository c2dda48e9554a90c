// npm run bench [-- --messages 20000 --runs 5 --batch 32]
// Prints each figure as the median of several runs, next to a baseline measured in the same run.
import { parseArgs } from 'node:util';
import { embeddedQueueConsumerProcesses, embeddedQueueOneConsumer, rawSqliteBaseline } from './queue-bench';
import { formatRate, median } from './stats';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '5' },
    batch: { type: 'string', default: '32' },
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
