// The contract suite's way to open this adapter, in the test process and in child processes.
import type { TaskStoreFactory } from '@gpu-jobs/task-store/testing';
import { EmbeddedTaskStore } from './embedded-task-store';

const open: TaskStoreFactory = async ({ dataDir }) => EmbeddedTaskStore.open({ dataDir });
export default open;
