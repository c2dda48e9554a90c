// A benchmark consumer process: receives and completes until it takes a stop message (the producer
// sends one per consumer after the work), then reports how many messages it took and when it
// completed the last one.
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';

const { dataDir, queueName, batch } = JSON.parse(process.argv[2] ?? '{}') as { dataDir: string; queueName: string; batch: number };
const queue = EmbeddedQueue.open({ dataDir });
const print = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');
print({ ready: true });

let count = 0;
let lastCompleteAt = 0;
let stopped = false;
const giveUpAt = Date.now() + 120_000;
while (!stopped && Date.now() < giveUpAt) {
  const got = await queue.receive(queueName, { maxMessages: batch, maxWaitTimeMs: 1_000 });
  for (const m of got) {
    if ((m.body as { stop?: boolean }).stop) {
      // one stop each: a second one in the same batch goes back for another consumer
      if (stopped) await queue.abandon(m);
      else await queue.complete(m);
      stopped = true;
      continue;
    }
    await queue.complete(m);
    count += 1;
    lastCompleteAt = Date.now();
  }
}
print({ done: true, count, lastCompleteAt });
await queue.close();
