// A writer in its own OS process, for the contract suite's concurrency tests: it tries to start every
// job of the list and to reserve budget, and prints what it won.
import { waitForGo } from '@gpu-jobs/testing';
import { applyEvent } from '../apply-event';
import { LimitReachedError } from '../errors';
import { loadTaskStoreFactory } from './task-store-factory';
import { sampleJob } from './sample-job';
import { budget } from './budget-check';

interface ChildArgs {
  factoryModule: string;
  dataDir: string;
  jobIds: string[];
  reservations: number;
  budgetLimit: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const print = (line: object) => process.stdout.write(JSON.stringify(line) + '\n');
const store = await (await loadTaskStoreFactory(args.factoryModule))({ dataDir: args.dataDir });
await waitForGo(`${args.dataDir}/go`); // start together with the other writers

const won: string[] = [];
for (const id of args.jobIds) {
  const r = await applyEvent(store, id, { type: 'start', at: new Date(), workerId: `pid-${process.pid}` }, { maxTries: 50 });
  if (r.ok) won.push(id);
}
// each reservation is a job admitted against the daily budget
let reserved = 0;
for (let i = 0; i < args.reservations; i++) {
  const job = sampleJob({ tenantId: 'tenant-budget', cost: { day: '2026-01-01', reserved: 1 } });
  try {
    await store.create(job, { check: budget(args.budgetLimit, 1) });
    reserved += 1;
  } catch (err) {
    if (!(err instanceof LimitReachedError)) throw err;
  }
}
print({ won, reserved, done: true });
await store.close();
