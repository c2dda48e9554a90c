// A benchmark consumer process: receives and completes until the queue stays empty, then reports
// how many messages it took and when it completed the last one.
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';

const { dataDir, queueName, batch } = JSON.parse(process.argv[2] ?? '{}') as { dataDir: string; queueName: string; batch: number };
const queue = EmbeddedQueue.open({ dataDir });
const print = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');
print({ ready: true });

let count = 0;
let lastCompleteAt = 0;
let empty = 0;
const giveUpAt = Date.now() + 60_000;
while (count > 0 ? empty < 2 : Date.now() < giveUpAt) {
  const got = await queue.receive(queueName, { maxMessages: batch, maxWaitTimeMs: 200 });
  empty = got.length === 0 ? empty + 1 : 0;
  for (const m of got) await queue.complete(m);
  if (got.length > 0) {
    count += got.length;
    lastCompleteAt = Date.now();
  }
}
print({ done: true, count, lastCompleteAt });
await queue.close();
