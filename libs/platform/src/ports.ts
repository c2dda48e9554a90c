import { resolve } from 'node:path';
import { DefaultAzureCredential } from '@azure/identity';
import type { BlobStore } from '@gpu-jobs/blob-store';
import { AzureBlobStore } from '@gpu-jobs/blob-store-azure';
import { LocalBlobStore } from '@gpu-jobs/blob-store-local';
import type { Queue } from '@gpu-jobs/queue';
import { EmbeddedQueue } from '@gpu-jobs/queue-embedded';
import { ServiceBusQueue } from '@gpu-jobs/queue-servicebus';
import type { TaskStore } from '@gpu-jobs/task-store';
import { EmbeddedTaskStore } from '@gpu-jobs/task-store-embedded';
import { MongoTaskStore } from '@gpu-jobs/task-store-mongodb';
import type { PlatformConfig } from './platform-config';

export interface Ports {
  queue: Queue;
  store: TaskStore;
  blobs: BlobStore;
  close(): Promise<void>;
}

export type PortsConfig = Omit<PlatformConfig, 'MODEL_REGISTRY' | 'TENANTS_FILE'> & { RETENTION_SECONDS?: number };

/** One credential for every Azure client of the process: workload identity on AKS, az login on a laptop. */
let credential: DefaultAzureCredential | undefined;
const azureCredential = () => (credential ??= new DefaultAzureCredential());

function openQueue(config: PortsConfig, dataDir: string): Queue {
  if (config.QUEUE_ADAPTER === 'servicebus') {
    const connection = config.SERVICEBUS_CONNECTION_STRING
      ? { connectionString: config.SERVICEBUS_CONNECTION_STRING }
      : { fullyQualifiedNamespace: config.SERVICEBUS_NAMESPACE as string, credential: azureCredential() };
    return new ServiceBusQueue({ connection, manageQueues: config.SERVICEBUS_MANAGE_QUEUES });
  }
  return EmbeddedQueue.open({ dataDir, synchronous: config.EMBEDDED_SYNCHRONOUS });
}

async function openStore(config: PortsConfig, dataDir: string): Promise<TaskStore> {
  if (config.TASK_STORE_ADAPTER === 'mongodb') {
    return MongoTaskStore.open({
      uri: config.MONGODB_URI as string,
      database: config.MONGODB_DATABASE,
      maxPoolSize: config.MONGODB_MAX_POOL_SIZE,
      timeoutMs: config.MONGODB_TIMEOUT_MS,
      ...(config.RETENTION_SECONDS ? { retentionMs: config.RETENTION_SECONDS * 1000 } : {}),
    });
  }
  return EmbeddedTaskStore.open({ dataDir, synchronous: config.EMBEDDED_SYNCHRONOUS });
}

async function openBlobs(config: PortsConfig, dataDir: string): Promise<BlobStore> {
  if (config.BLOB_STORE_ADAPTER === 'azure') {
    const connection = config.AZURE_STORAGE_CONNECTION_STRING
      ? { connectionString: config.AZURE_STORAGE_CONNECTION_STRING }
      : { accountUrl: config.AZURE_STORAGE_ACCOUNT_URL as string, credential: azureCredential() };
    return AzureBlobStore.open({
      connection,
      containers: { inputs: config.AZURE_STORAGE_INPUTS_CONTAINER, results: config.AZURE_STORAGE_RESULTS_CONTAINER },
      createContainers: config.AZURE_STORAGE_CREATE_CONTAINERS,
    });
  }
  // blobs follow the same durability choice as the SQLite files: fsync only when FULL
  return LocalBlobStore.open({ dataDir, fsync: config.EMBEDDED_SYNCHRONOUS === 'FULL' });
}

/** Opens the adapters the configuration names and makes sure each lane has its queue. */
export async function openPorts(config: PortsConfig, lanes: readonly string[]): Promise<Ports> {
  const dataDir = resolve(config.DATA_DIR);
  const queue = openQueue(config, dataDir);
  const store = await openStore(config, dataDir);
  const blobs = await openBlobs(config, dataDir);
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
