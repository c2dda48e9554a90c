import type { TaskStore } from '../task-store';

/** A module whose default export opens the adapter; loaded by the suite here and in child processes. */
export type TaskStoreFactory = (options: { dataDir: string }) => Promise<TaskStore>;

export async function loadTaskStoreFactory(factoryModule: string): Promise<TaskStoreFactory> {
  return ((await import(factoryModule)) as { default: TaskStoreFactory }).default;
}
