import { fileURLToPath } from 'node:url';
import { describeTaskStoreContract } from '@gpu-jobs/task-store/testing';

describeTaskStoreContract({
  name: 'embedded (node:sqlite)',
  factoryModule: fileURLToPath(new URL('./embedded-task-store.factory.ts', import.meta.url)),
});
