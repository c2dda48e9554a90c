// The contract suite's way to open this adapter, in the test process and in child processes.
import type { QueueFactory } from '@gpu-jobs/queue/testing';
import { EmbeddedQueue } from './embedded-queue';

const open: QueueFactory = async ({ dataDir }) => EmbeddedQueue.open({ dataDir });
export default open;
