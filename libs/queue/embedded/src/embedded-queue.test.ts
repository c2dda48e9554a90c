import { fileURLToPath } from 'node:url';
import { describeQueueContract } from '@gpu-jobs/queue/testing';

describeQueueContract({
  name: 'embedded (node:sqlite)',
  factoryModule: fileURLToPath(new URL('./embedded-queue.factory.ts', import.meta.url)),
  lockDurationMs: 1_000,
  duplicateWindowMs: 500,
});
