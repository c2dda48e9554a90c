import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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
  /** AKS minor version (AKS picks its latest patch); keep it inside AKS standard support (`az aks get-versions`). */
  kubernetesVersion: string;
  vnetCidr: string;
  systemPool: PoolConfig;
  cpuPool: PoolConfig;
  /** The on-demand GPU pool: T4 class by default, for the `small-gpu` lane. */
  gpuPool: PoolConfig & { lane: string };
  /** The spot GPU pool for the batch lane. */
  spotPool: PoolConfig & { enabled: boolean; lane: string };
  serviceBusSku: 'Standard' | 'Premium';
  queue: { lockDuration: string; maxDeliveryCount: number; duplicateWindow: string; messageTtl: string };
  mongo: { tier: string; storageGb: number; highAvailability: boolean; administratorLogin: string };
  retentionDays: number;
  budgetAmount: number;
  budgetContactEmails: string[];
  /** Kubernetes namespace and service accounts the workload identities are federated with. */
  namespace: string;
  /**
   * The public API's tokens (Entra ID v2.0): `audience` is the application (client) id of the API's app
   * registration, which v2.0 access tokens carry as `aud`; the directory that issues them (default: the
   * deployer's); `multiTenant` for the `{tenantid}` issuer of a multi-tenant app; the claim naming the
   * platform tenant (azp: the calling application). Set per stack (docs/operations.md); no default.
   */
  auth: { audience: string; directoryId?: string; multiTenant: boolean; allowedDirectories: string[]; tenantClaim: string };
  /** The API's host name (set per stack; no default) and its TLS certificate's name in the stack's Key Vault. */
  ingress: { host: string; certificateName: string };
  /** Appended to globally unique names; default: derived from the subscription and environment. */
  nameSuffix?: string;
  /** The scaler's bounds of each lane's workers (ScaledObject minReplicaCount range and maxReplicaCount). */
  scaling: Record<string, { minWorkers: number; maxWorkers: number }>;
}

export const DEFAULTS: StackConfig = {
  environment: 'dev',
  location: 'westeurope',
  owner: 'platform-team',
  costCenter: 'gpu-inference',
  // AKS standard support of 1.35 runs to about March 2027 (AKS release calendar); bump the default before then
  kubernetesVersion: '1.35',
  vnetCidr: '10.40.0.0/16',
  systemPool: { vmSize: 'Standard_D2ds_v5', minCount: 1, maxCount: 3 },
  cpuPool: { vmSize: 'Standard_D4ds_v5', minCount: 1, maxCount: 3 },
  gpuPool: { vmSize: 'Standard_NC4as_T4_v3', minCount: 0, maxCount: 2, lane: 'small-gpu' },
  spotPool: { enabled: false, vmSize: 'Standard_NC4as_T4_v3', minCount: 0, maxCount: 4, lane: 'batch-spot' },
  serviceBusSku: 'Standard',
  queue: { lockDuration: 'PT1M', maxDeliveryCount: 10, duplicateWindow: 'PT10M', messageTtl: 'P7D' },
  mongo: { tier: 'M30', storageGb: 128, highAvailability: false, administratorLogin: 'gpujobsadmin' },
  retentionDays: 7,
  budgetAmount: 500,
  budgetContactEmails: [],
  namespace: 'gpu-jobs',
  auth: { audience: '', multiTenant: false, allowedDirectories: [], tenantClaim: 'azp' },
  ingress: { host: '', certificateName: 'gateway-tls' },
  scaling: { 'small-gpu': { minWorkers: 0, maxWorkers: 2 } },
};

/** The model registry the images ship: its lanes are the platform's lanes (a queue, a worker Deployment, a ScaledObject each). */
export const MODEL_REGISTRY = fileURLToPath(new URL('../../config/models.json', import.meta.url));

/** The lanes of the model registry, in first-use order. */
export function registryLanes(path = MODEL_REGISTRY): string[] {
  const models = (JSON.parse(readFileSync(path, 'utf8')) as { models: { lane: string }[] }).models;
  return [...new Set(models.map((m) => m.lane))];
}

/** GPUs per VM of the sizes the pools use (the NC T4 v3 family); a size not listed is a configuration error. */
export const GPUS_PER_VM: Record<string, number> = {
  Standard_NC4as_T4_v3: 1,
  Standard_NC8as_T4_v3: 1,
  Standard_NC16as_T4_v3: 1,
  Standard_NC64as_T4_v3: 4,
};

/** Checks a stack's settings against each other and the model registry; throws naming the setting. */
export function validateStackConfig(c: StackConfig, lanes: readonly string[] = registryLanes()): void {
  const fail = (msg: string) => {
    throw new Error(`gpu-jobs: ${msg}`);
  };
  if (!['dev', 'staging', 'prod'].includes(c.environment)) fail('environment must be dev, staging or prod');
  if (!lanes.includes(c.gpuPool.lane)) fail(`gpuPool.lane ${c.gpuPool.lane} is not a lane of config/models.json (${lanes.join(', ')})`);
  if (c.spotPool.enabled && !lanes.includes(c.spotPool.lane))
    fail(`spotPool is enabled for lane ${c.spotPool.lane}, which no model in config/models.json uses`);
  const served = [c.gpuPool.lane, ...(c.spotPool.enabled ? [c.spotPool.lane] : [])];
  for (const lane of lanes) if (!served.includes(lane)) fail(`lane ${lane} of config/models.json has no GPU pool (gpuPool or spotPool)`);
  for (const lane of lanes) {
    const s = c.scaling[lane];
    if (!s) fail(`scaling.${lane} (minWorkers, maxWorkers) is missing`);
    else if (s.minWorkers < 0 || s.maxWorkers < 1 || s.minWorkers > s.maxWorkers)
      fail(`scaling.${lane}: need 0 <= minWorkers <= maxWorkers, 1 <= maxWorkers`);
  }
  for (const pool of [c.gpuPool, ...(c.spotPool.enabled ? [c.spotPool] : [])])
    if (GPUS_PER_VM[pool.vmSize] === undefined) fail(`${pool.vmSize}: GPUs per VM unknown (add it to GPUS_PER_VM)`);
  if (!/^\d+\.\d+$/.test(c.kubernetesVersion)) fail('kubernetesVersion is a minor version such as 1.35');
  const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  if (!guid.test(c.auth.audience))
    fail(
      "auth.audience must be the API app registration's application (client) id: pulumi config set --path gpu-jobs:auth.audience <appId>",
    );
  if (c.auth.directoryId !== undefined && !guid.test(c.auth.directoryId)) fail('auth.directoryId must be a directory (tenant) id');
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(c.ingress.host) || /(^|\.)example\./.test(c.ingress.host))
    fail("ingress.host must be the API's DNS name in a domain you control: pulumi config set --path gpu-jobs:ingress.host api.<domain>");
  if (
    c.budgetContactEmails.length === 0 ||
    c.budgetContactEmails.some((e) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(e) || /@example\./.test(e))
  )
    fail(
      "budgetContactEmails: the addresses that receive budget and alert notifications (pulumi config set --path 'gpu-jobs:budgetContactEmails[0]' ...)",
    );
  if (c.auth.multiTenant && c.auth.tenantClaim === 'tid' && c.auth.allowedDirectories.length === 0)
    fail('auth: a multi-tenant issuer needs allowedDirectories (or a tenant claim other than tid)');
}

/** The most GPUs the stack's pools can hold: the namespace's GPU quota. */
export function gpuCapacity(c: StackConfig): number {
  const pools = [c.gpuPool, ...(c.spotPool.enabled ? [c.spotPool] : [])];
  return pools.reduce((sum, p) => sum + p.maxCount * (GPUS_PER_VM[p.vmSize] ?? 0), 0);
}

/**
 * Globally unique names (registry, storage, vault, Service Bus, MongoDB, Function App, Grafana): a short
 * environment code and a suffix that is stable for a subscription, so two organisations deploying the
 * project do not collide, and every name fits its service's length rules (storage: 24, vault: 24).
 */
export function uniqueNames(environment: StackConfig['environment'], suffix: string) {
  const env = { dev: 'dev', staging: 'stg', prod: 'prd' }[environment];
  return {
    registry: `gj${env}acr${suffix}`,
    storage: `gj${env}blob${suffix}`,
    keyVault: `gj-${env}-kv-${suffix}`,
    serviceBus: `gj-${env}-sb-${suffix}`,
    mongo: `gj-${env}-mongo-${suffix}`,
    functionApp: `gj-${env}-scaler-${suffix}`,
    grafana: `gj-${env}-graf-${suffix}`,
  };
}
export type UniqueNames = ReturnType<typeof uniqueNames>;

/** Six lowercase hex characters from the subscription and environment. */
export function nameSuffix(subscriptionId: string, environment: string): string {
  return createHash('sha256').update(`${subscriptionId}/${environment}`).digest('hex').slice(0, 6);
}

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
  validateStackConfig(stack);
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
  monitoringDataReader: 'b0d8363b-8ddd-447d-831f-62ca05bff136',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  aksClusterUser: '4abbcc35-e782-43d8-92c5-2d3f1bd2253f',
  aksRbacClusterAdmin: 'b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b',
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec',
  grafanaAdmin: '22926164-76b3-42b3-bc55-97df8dab3e41',
} as const;
