// A consumer in its own OS process, for the contract suite's multi-process tests.
//   drain: wait for messages, then receive and complete until the queue stays empty, printing each id
//   hold:  receive one message, report it, and keep the lock until killed
import type { LockedMessage } from '../queue';
import { loadQueueFactory } from './queue-factory';

interface ChildArgs {
  factoryModule: string;
  dataDir: string;
  queueName: string;
  mode: 'drain' | 'hold';
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const print = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');

const queue = await (await loadQueueFactory(args.factoryModule))({ dataDir: args.dataDir });
print({ ready: true, pid: process.pid });

if (args.mode === 'hold') {
  let held: LockedMessage[] = [];
  while (held.length === 0) held = await queue.receive(args.queueName, { maxMessages: 1, maxWaitTimeMs: 5_000 });
  print({ locked: held[0]?.messageId, deliveryCount: held[0]?.deliveryCount });
  setInterval(() => undefined, 60_000); // hold the lock until SIGKILL
} else {
  // Wait (bounded) for the first message, then drain until the queue stays empty for three rounds.
  let emptyRounds = 0;
  let seen = 0;
  const giveUpAt = Date.now() + 20_000;
  while (seen > 0 ? emptyRounds < 3 : Date.now() < giveUpAt) {
    const batch = await queue.receive(args.queueName, { maxMessages: 8, maxWaitTimeMs: 300 });
    emptyRounds = batch.length === 0 ? emptyRounds + 1 : 0;
    seen += batch.length;
    for (const m of batch) {
      await queue.complete(m);
      print({ received: m.messageId, deliveryCount: m.deliveryCount });
    }
  }
  print({ done: true });
  await queue.close();
}
