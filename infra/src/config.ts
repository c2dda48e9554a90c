import * as pulumi from '@pulumi/pulumi';

export interface PoolConfig {
  vmSize: string;
  minCount: number;
  maxCount: number;
}

/** Everything a stack can set; defaults are the dev stack. Stack files carry only the differences. */
export interface StackConfig {
  environment: 'dev' | 'staging' | 'prod';
  location: string;
  owner: string;
  costCenter: string;
  kubernetesVersion: string;
  vnetCidr: string;
  systemPool: PoolConfig;
  cpuPool: PoolConfig;
  /** The on-demand GPU pool: T4 class by default, for the `small-gpu` lane. */
  gpuPool: PoolConfig & { lane: string };
  /** The spot GPU pool for the batch lane. */
  spotPool: PoolConfig & { enabled: boolean; lane: string };
  /** Queues: one per lane. */
  lanes: string[];
  serviceBusSku: 'Standard' | 'Premium';
  queue: { lockDuration: string; maxDeliveryCount: number; duplicateWindow: string; messageTtl: string };
  mongo: { tier: string; storageGb: number; highAvailability: boolean; administratorLogin: string };
  retentionDays: number;
  budgetAmount: number;
  budgetContactEmails: string[];
  /** Kubernetes namespace and service accounts the workload identities are federated with. */
  namespace: string;
}

export const DEFAULTS: StackConfig = {
  environment: 'dev',
  location: 'westeurope',
  owner: 'platform-team',
  costCenter: 'gpu-inference',
  kubernetesVersion: '1.31',
  vnetCidr: '10.40.0.0/16',
  systemPool: { vmSize: 'Standard_D2ds_v5', minCount: 1, maxCount: 3 },
  cpuPool: { vmSize: 'Standard_D4ds_v5', minCount: 1, maxCount: 3 },
  gpuPool: { vmSize: 'Standard_NC4as_T4_v3', minCount: 0, maxCount: 2, lane: 'small-gpu' },
  spotPool: { enabled: false, vmSize: 'Standard_NC4as_T4_v3', minCount: 0, maxCount: 4, lane: 'batch-spot' },
  lanes: ['small-gpu', 'batch-spot'],
  serviceBusSku: 'Standard',
  queue: { lockDuration: 'PT1M', maxDeliveryCount: 10, duplicateWindow: 'PT10M', messageTtl: 'P7D' },
  mongo: { tier: 'M30', storageGb: 128, highAvailability: false, administratorLogin: 'gpujobsadmin' },
  retentionDays: 7,
  budgetAmount: 500,
  budgetContactEmails: ['platform-team@example.com'],
  namespace: 'gpu-jobs',
};

/** Reads the stack's configuration (namespace `gpu-jobs`) over the defaults; objects merge one level deep. */
export function loadStackConfig(config = new pulumi.Config('gpu-jobs')): StackConfig {
  const merged = { ...DEFAULTS } as Record<string, unknown>;
  for (const key of Object.keys(DEFAULTS) as (keyof StackConfig)[]) {
    const base = DEFAULTS[key];
    const value =
      typeof base === 'object' && !Array.isArray(base)
        ? config.getObject<object>(key)
        : typeof base === 'number'
          ? config.getNumber(key)
          : Array.isArray(base)
            ? config.getObject<unknown[]>(key)
            : config.get(key);
    if (value === undefined) continue;
    merged[key] = typeof base === 'object' && !Array.isArray(base) ? { ...(base as object), ...(value as object) } : value;
  }
  const stack = merged as unknown as StackConfig;
  if (!['dev', 'staging', 'prod'].includes(stack.environment)) throw new Error(`gpu-jobs:environment must be dev, staging or prod`);
  return stack;
}

/** Tags every resource carries. */
export function tagsFor(config: StackConfig): Record<string, string> {
  return {
    environment: config.environment,
    owner: config.owner,
    'cost-center': config.costCenter,
    'managed-by': 'pulumi',
    system: 'gpu-jobs',
  };
}

/** Built-in Azure role definition ids (the same in every tenant). */
export const ROLES = {
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  serviceBusDataSender: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  serviceBusDataReceiver: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  serviceBusDataOwner: '090c5cfd-751d-490a-894a-3ce6f1109419',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  monitoringDataReader: 'b0d8363b-8ddd-447d-831f-62ca05bff136',
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
} as const;
