import { resolve } from 'node:path';
import type { BlobStore } from '@gpu-jobs/blob-store';
import { LocalBlobStore } from '@gpu-jobs/blob-store-local';
import type { Queue } from '@gpu-jobs/queue';
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';
import type { TaskStore } from '@gpu-jobs/task-store';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import type { PlatformConfig } from './platform-config';

export interface Ports {
  queue: Queue;
  store: TaskStore;
  blobs: BlobStore;
  close(): Promise<void>;
}

/** Opens the adapters the configuration names and makes sure each lane has its queue. */
export async function openPorts(config: Omit<PlatformConfig, 'MODEL_REGISTRY' | 'TENANTS_FILE'>, lanes: readonly string[]): Promise<Ports> {
  const dataDir = resolve(config.DATA_DIR);
  const queue = EmbeddedQueue.open({ dataDir, synchronous: config.EMBEDDED_SYNCHRONOUS });
  const store = EmbeddedTaskStore.open({ dataDir, synchronous: config.EMBEDDED_SYNCHRONOUS });
  // blobs follow the same durability choice as the SQLite files: fsync only when FULL
  const blobs = LocalBlobStore.open({ dataDir, fsync: config.EMBEDDED_SYNCHRONOUS === 'FULL' });
  for (const lane of lanes) {
    await queue.ensureQueue(lane, { lockDurationMs: config.QUEUE_LOCK_SECONDS * 1000, maxDeliveryCount: config.QUEUE_MAX_DELIVERY_COUNT });
  }
  return {
    queue,
    store,
    blobs,
    close: async () => {
      await queue.close();
      await store.close();
      await blobs.close();
    },
  };
}
