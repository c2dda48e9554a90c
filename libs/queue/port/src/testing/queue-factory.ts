import type { Queue } from '../queue';

/**
 * What an adapter gives the contract suite: a module whose default export opens a client.
 * The suite loads it in the test process and in child processes, so it must be importable by path.
 */
export type QueueFactory = (options: { dataDir: string }) => Promise<Queue>;

export async function loadQueueFactory(factoryModule: string): Promise<QueueFactory> {
  const mod = (await import(factoryModule)) as { default: QueueFactory };
  return mod.default;
}
