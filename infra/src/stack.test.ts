// The program run under Pulumi's mocks (pulumi.runtime.setMocks: no CLI, no plugins, no Azure), once per
// stack with that stack's file as configuration. Every resource the program declares is recorded with its
// inputs, and the tests assert on them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, ROLES, loadStackConfig, tagsFor, type StackConfig } from './config';

interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const STACKS = ['dev', 'staging', 'prod'] as const;
type StackName = (typeof STACKS)[number];
const stackFile = (stack: StackName) =>
  (parse(readFileSync(fileURLToPath(new URL(`../Pulumi.${stack}.yaml`, import.meta.url)), 'utf8')) as { config: Record<string, unknown> })
    .config;

const NAME_KEYS: Record<string, string> = {
  'servicebus:Namespace': 'namespaceName',
  'storage:StorageAccount': 'accountName',
  'keyvault:Vault': 'vaultName',
  'mongocluster:MongoCluster': 'mongoClusterName',
  'managedidentity:UserAssignedIdentity': 'resourceName',
  'resources:ResourceGroup': 'resourceGroupName',
};

/** What the mocked cloud answers beyond the inputs, for the outputs the program reads. */
function state(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (type) {
    case 'azure-native:containerservice:ManagedCluster':
      return {
        ...inputs,
        name,
        oidcIssuerProfile: { enabled: true, issuerURL: `https://oidc.example/${name}/` },
        identityProfile: { kubeletidentity: { objectId: 'kubelet-object-id' } },
      };
    case 'azure-native:storage:StorageAccount':
      return {
        ...inputs,
        name: inputs['accountName'],
        primaryEndpoints: { blob: `https://${inputs['accountName']}.blob.core.windows.net/` },
      };
    case 'azure-native:managedidentity:UserAssignedIdentity':
      return { ...inputs, name: inputs['resourceName'], principalId: `${name}-principal`, clientId: `${name}-client` };
    case 'azure-native:dashboard:Grafana':
      return {
        ...inputs,
        identity: { type: 'SystemAssigned', principalId: 'grafana-principal' },
        properties: { ...(inputs['properties'] as object), endpoint: 'https://grafana.example' },
      };
    case 'azure-native:keyvault:Vault':
      return { ...inputs, name: inputs['vaultName'], properties: { ...(inputs['properties'] as object), vaultUri: 'https://kv.example/' } };
    case 'azure-native:containerregistry:Registry':
      return { ...inputs, loginServer: `${inputs['registryName']}.azurecr.io` };
    default: {
      // Azure names a resource by its own name argument
      const key = NAME_KEYS[type.replace('azure-native:', '')];
      return { ...inputs, name: (key && inputs[key]) ?? inputs['name'] ?? name };
    }
  }
}

async function run(stack: StackName): Promise<{ recorded: Recorded[]; config: StackConfig; outputs: Record<string, unknown> }> {
  const recorded: Recorded[] = [];
  const config: Record<string, string> = { 'gpu-jobs:mongoAdminPassword': 'not-a-real-password' };
  for (const [k, v] of Object.entries(stackFile(stack))) config[k] = typeof v === 'string' ? v : JSON.stringify(v);
  pulumi.runtime.setAllConfig(config, ['gpu-jobs:mongoAdminPassword']);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: state(args.type, args.name, args.inputs) };
      },
      call: (args) =>
        args.token === 'azure-native:authorization:getClientConfig'
          ? { clientId: 'deployer', objectId: 'deployer-object', subscriptionId: 'sub-1234', tenantId: 'tenant-5678' }
          : args.inputs,
    },
    'gpu-jobs',
    stack,
    false,
  );
  const { createPlatform } = await import('./stack');
  const stackConfig = loadStackConfig(new pulumi.Config('gpu-jobs'));
  const outputs = createPlatform(stackConfig, { mongoAdminPassword: 'not-a-real-password' });
  const resolved: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs))
    resolved[k] = await new Promise((r) => (pulumi.output(v as pulumi.Input<unknown>) as pulumi.Output<unknown>).apply(r));
  await new Promise((r) => setTimeout(r, 50));
  resolved['mongoAdminPasswordIsSecret'] = await (outputs.mongoAdminPassword as unknown as { isSecret: Promise<boolean> }).isSecret;
  return { recorded, config: stackConfig, outputs: resolved };
}

const runs = {} as Record<StackName, Awaited<ReturnType<typeof run>>>;
beforeAll(async () => {
  for (const stack of STACKS) runs[stack] = await run(stack);
});

const of = (stack: StackName, type: string) => runs[stack].recorded.filter((r) => r.type === `azure-native:${type}`);
const one = (stack: StackName, type: string) => {
  const found = of(stack, type);
  expect(found, type).toHaveLength(1);
  return found[0] as Recorded;
};
const pools = (stack: StackName) => one(stack, 'containerservice:ManagedCluster').inputs['agentPoolProfiles'] as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
const pool = (stack: StackName, name: string) => pools(stack).find((p) => p['name'] === name);

describe.each(STACKS)('stack %s', (stack) => {
  it('GPU pool: tainted, labelled with accelerator and lane, autoscaled within the stack bounds', () => {
    const gpu = pool(stack, 'gpu');
    const want = runs[stack].config.gpuPool;
    expect(gpu).toMatchObject({
      vmSize: want.vmSize,
      minCount: want.minCount,
      maxCount: want.maxCount,
      enableAutoScaling: true,
      mode: 'User',
    });
    expect(gpu?.['nodeTaints']).toEqual(['sku=gpu:NoSchedule']);
    expect(gpu?.['nodeLabels']).toMatchObject({ sku: 'gpu', accelerator: 'nvidia-t4', 'gpu-jobs/lane': 'small-gpu' });
    expect(want.vmSize).toMatch(/^Standard_NC/);
  });

  it('spot pool for the batch lane when enabled: Spot, eviction Delete, max price -1, its own taint and label', () => {
    const spot = pool(stack, 'spot');
    if (!runs[stack].config.spotPool.enabled) return expect(spot).toBeUndefined();
    expect(spot).toMatchObject({ scaleSetPriority: 'Spot', scaleSetEvictionPolicy: 'Delete', spotMaxPrice: -1, enableAutoScaling: true });
    expect(spot?.['nodeTaints']).toEqual(
      expect.arrayContaining(['kubernetes.azure.com/scalesetpriority=spot:NoSchedule', 'sku=gpu:NoSchedule']),
    );
    expect(spot?.['nodeLabels']).toMatchObject({ 'gpu-jobs/lane': 'batch-spot', 'kubernetes.azure.com/scalesetpriority': 'spot' });
  });

  it('system pool runs critical add-ons only; the cluster has OIDC, workload identity, KEDA, Prometheus, the CSI driver, least-waste', () => {
    expect(pool(stack, 'system')).toMatchObject({ mode: 'System', nodeTaints: ['CriticalAddonsOnly=true:NoSchedule'] });
    const aks = one(stack, 'containerservice:ManagedCluster').inputs;
    expect(aks).toMatchObject({
      kubernetesVersion: DEFAULTS.kubernetesVersion,
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      workloadAutoScalerProfile: { keda: { enabled: true } },
      azureMonitorProfile: { metrics: { enabled: true } },
      addonProfiles: { azureKeyvaultSecretsProvider: { enabled: true } },
      autoScalerProfile: { expander: 'least-waste' },
      disableLocalAccounts: true,
    });
  });

  it("managed Prometheus: the cluster's metrics reach the Azure Monitor workspace that Grafana reads", () => {
    const rule = one(stack, 'monitor:DataCollectionRule').inputs;
    expect(rule['dataFlows']).toEqual([{ streams: ['Microsoft-PrometheusMetrics'], destinations: ['MonitoringAccount1'] }]);
    expect(one(stack, 'monitor:DataCollectionRuleAssociation').inputs['resourceUri']).toBe('cluster-aks-id');
    const prom = one(stack, 'monitor:AzureMonitorWorkspace');
    expect(one(stack, 'dashboard:Grafana').inputs['properties'].grafanaIntegrations.azureMonitorWorkspaceIntegrations).toEqual([
      { azureMonitorWorkspaceResourceId: `${prom.name}-id` },
    ]);
  });

  it('ACR: admin user disabled, private, and the kubelet identity may pull', () => {
    expect(one(stack, 'containerregistry:Registry').inputs).toMatchObject({ adminUserEnabled: false, publicNetworkAccess: 'Disabled' });
    const pulls = of(stack, 'authorization:RoleAssignment').filter((r) => String(r.inputs['roleDefinitionId']).endsWith(ROLES.acrPull));
    expect(pulls.map((r) => r.inputs['principalId'])).toEqual(['kubelet-object-id']);
  });

  it('storage: no shared-key access, TLS 1.2, private; inputs and results containers, NFS model cache, lifecycle rule', () => {
    for (const account of of(stack, 'storage:StorageAccount')) {
      expect(account.inputs).toMatchObject({
        allowSharedKeyAccess: false,
        minimumTlsVersion: 'TLS1_2',
        publicNetworkAccess: 'Disabled',
        allowBlobPublicAccess: false,
      });
    }
    expect(
      of(stack, 'storage:BlobContainer')
        .map((c) => c.inputs['containerName'])
        .sort(),
    ).toEqual(['inputs', 'results', 'scaler-deployments']);
    expect(one(stack, 'storage:FileShare').inputs).toMatchObject({ enabledProtocols: 'NFS', shareName: 'model-cache' });
    const rule = one(stack, 'storage:ManagementPolicy').inputs['policy'].rules[0];
    expect(rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan).toBe(runs[stack].config.retentionDays + 1);
  });

  it('Service Bus: one queue per lane with lock, deliveries, duplicate detection and dead-lettering on expiry', () => {
    const ns = one(stack, 'servicebus:Namespace').inputs;
    expect(ns).toMatchObject({ disableLocalAuth: true, sku: { name: runs[stack].config.serviceBusSku } });
    const queues = of(stack, 'servicebus:Queue');
    expect(queues.map((q) => q.inputs['queueName']).sort()).toEqual([...runs[stack].config.lanes].sort());
    for (const q of queues) {
      expect(q.inputs).toMatchObject({
        lockDuration: 'PT1M',
        maxDeliveryCount: 10,
        requiresDuplicateDetection: true,
        duplicateDetectionHistoryTimeWindow: 'PT10M',
        deadLetteringOnMessageExpiration: true,
      });
    }
  });

  it('every data service is private: a private endpoint each, public access off where the service allows it', () => {
    const endpoints = of(stack, 'network:PrivateEndpoint').map((pe) => pe.inputs['privateLinkServiceConnections'][0].groupIds[0]);
    const premium = runs[stack].config.serviceBusSku === 'Premium';
    expect(endpoints.sort()).toEqual(['MongoCluster', 'blob', 'file', 'registry', 'vault', ...(premium ? ['namespace'] : [])].sort());
    expect(one(stack, 'mongocluster:MongoCluster').inputs['properties']).toMatchObject({ publicNetworkAccess: 'Disabled' });
    expect(one(stack, 'keyvault:Vault').inputs['properties']).toMatchObject({
      publicNetworkAccess: 'Disabled',
      enableRbacAuthorization: true,
    });
    expect(one(stack, 'servicebus:Namespace').inputs['publicNetworkAccess']).toBe(premium ? 'Disabled' : 'Enabled');
    expect(of(stack, 'network:PrivateDnsZoneGroup')).toHaveLength(endpoints.length);
  });

  it('each identity has exactly the role assignments intended, and a federated credential for its service account', () => {
    const ids = of(stack, 'managedidentity:UserAssignedIdentity').map((i) => i.name);
    expect(ids.sort()).toEqual(['identity-gateway', 'identity-scaler', 'identity-worker']);
    const rolesOf = (app: string) =>
      of(stack, 'authorization:RoleAssignment')
        .filter((r) => r.inputs['principalId'] === `identity-${app}-principal`)
        .map((r) => {
          const def = String(r.inputs['roleDefinitionId']);
          return (Object.entries(ROLES).find(([, id]) => def.endsWith(id))?.[0] ??
            (def.includes('scaledobject') ? 'scaledObjectEditor' : def)) as string;
        })
        .sort();
    const lanes = runs[stack].config.spotPool.enabled ? 2 : 1;
    expect(rolesOf('gateway')).toEqual(
      [
        'keyVaultSecretsUser',
        'storageBlobDataContributor',
        'storageBlobDataContributor',
        ...runs[stack].config.lanes.map(() => 'serviceBusDataSender'),
      ].sort(),
    );
    expect(rolesOf('worker')).toEqual(
      [
        'keyVaultSecretsUser',
        'storageBlobDataContributor',
        'storageBlobDataReader',
        ...new Array(lanes).fill('serviceBusDataReceiver'),
        ...new Array(lanes).fill('serviceBusDataSender'),
      ].sort(),
    );
    expect(rolesOf('scaler')).toEqual(
      ['aksClusterUser', 'keyVaultSecretsUser', 'scaledObjectEditor', 'serviceBusDataOwner', 'storageBlobDataContributor'].sort(),
    );
    const editor = one(stack, 'authorization:RoleDefinition').inputs;
    expect(editor['permissions'][0].dataActions).toEqual([
      'Microsoft.ContainerService/managedClusters/apps/deployments/read',
      'Microsoft.ContainerService/managedClusters/keda.sh/scaledobjects/read',
      'Microsoft.ContainerService/managedClusters/keda.sh/scaledobjects/write',
    ]);
    const federations = of(stack, 'managedidentity:FederatedIdentityCredential').map((f) => f.inputs);
    expect(federations.map((f) => f['subject']).sort()).toEqual(
      ['gateway', 'scaler', 'worker'].map((a) => `system:serviceaccount:gpu-jobs:${a}`),
    );
    for (const f of federations)
      expect(f).toMatchObject({ audiences: ['api://AzureADTokenExchange'], issuer: 'https://oidc.example/cluster-aks/' });
  });

  it('every resource that takes tags carries environment, owner and cost-center', () => {
    const untaggable = new Set([
      'servicebus:Queue',
      'storage:BlobContainer',
      'storage:ManagementPolicy',
      'storage:FileShare',
      'network:PrivateDnsZoneGroup',
      'managedidentity:FederatedIdentityCredential',
      'authorization:RoleAssignment',
      'authorization:RoleDefinition',
      'keyvault:Secret',
      'consumption:Budget',
      'monitor:DataCollectionRuleAssociation',
    ]);
    const azure = runs[stack].recorded.filter((r) => r.type.startsWith('azure-native:'));
    const tagged = azure.filter((r) => !untaggable.has(r.type.replace('azure-native:', '')));
    expect(tagged.length).toBeGreaterThan(20);
    for (const r of tagged) expect(r.inputs['tags'], `${r.type} ${r.name}`).toEqual(tagsFor(runs[stack].config));
    expect(tagsFor(runs[stack].config)).toMatchObject({ environment: stack, owner: 'platform-team', 'cost-center': 'gpu-inference' });
  });

  it('outputs what deploy/ and the release pipeline need, the secret ones secret', () => {
    expect(runs[stack].outputs).toMatchObject({
      acrLoginServer: `gpujobs${stack}acr.azurecr.io`,
      gatewayClientId: 'identity-gateway-client',
      workerClientId: 'identity-worker-client',
      scalerClientId: 'identity-scaler-client',
      serviceBusNamespace: `gpujobs-${stack}-sb.servicebus.windows.net`,
      queueNames: runs[stack].config.lanes,
      blobEndpoint: `https://gpujobs${stack}blobs.blob.core.windows.net/`,
      tenantId: 'tenant-5678',
      mongoAdminPasswordIsSecret: true,
    });
  });
});

describe('stacks differ only where their files say', () => {
  it('every difference between dev and prod configuration is a key set in a stack file', () => {
    const setIn = new Set([...Object.keys(stackFile('dev')), ...Object.keys(stackFile('prod'))].map((k) => k.replace('gpu-jobs:', '')));
    const differing = (Object.keys(DEFAULTS) as (keyof StackConfig)[]).filter(
      (k) => JSON.stringify(runs.dev.config[k]) !== JSON.stringify(runs.prod.config[k]),
    );
    expect(differing.length).toBeGreaterThan(0);
    for (const k of differing) expect(setIn.has(k), k).toBe(true);
  });

  it("prod adds only what its settings imply: the spot pool (and the worker's grants on its lane), the Service Bus private endpoint", () => {
    const names = (stack: StackName) => new Set(runs[stack].recorded.map((r) => `${r.type} ${r.name}`));
    const extra = [...names('prod')].filter((n) => !names('dev').has(n));
    expect(extra.sort()).toEqual([
      'azure-native:authorization:RoleAssignment identity-worker-receive-batch-spot',
      'azure-native:authorization:RoleAssignment identity-worker-send-batch-spot',
      'azure-native:network:PrivateDnsZoneGroup messaging-sb-pe-dns',
      'azure-native:network:PrivateEndpoint messaging-sb-pe',
    ]);
    expect([...names('dev')].filter((n) => !names('prod').has(n))).toEqual([]);
    expect(pools('prod').map((p) => p['name'])).toEqual(['system', 'cpu', 'gpu', 'spot']);
    expect(pools('dev').map((p) => p['name'])).toEqual(['system', 'cpu', 'gpu']);
  });
});
