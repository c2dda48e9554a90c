// The program under Pulumi's mocks, once per stack (testing/mock-platform.ts): every resource it declares, with
// its inputs, asserted on.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULTS,
  ROLES,
  gpuCapacity,
  nameSuffix,
  registryLanes,
  tagsFor,
  uniqueNames,
  validateStackConfig,
  type StackConfig,
} from './config';
import { mongoUri } from './components/data';
import { loadAlertGroups } from './components/cluster-monitoring';
import { MOCK_CLIENT, STACKS, runPlatform, stackFile, type Recorded, type StackName } from './testing/mock-platform';

const runs = {} as Record<StackName, Awaited<ReturnType<typeof runPlatform>>>;
beforeAll(async () => {
  for (const stack of STACKS) runs[stack] = await runPlatform(stack);
});
const names = (stack: StackName) => uniqueNames(stack, nameSuffix(MOCK_CLIENT.subscriptionId, stack));

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

  it('system pool runs critical add-ons only; the cluster has OIDC, workload identity, KEDA, Prometheus, Container insights, app routing, the CSI driver', () => {
    expect(pool(stack, 'system')).toMatchObject({ mode: 'System', nodeTaints: ['CriticalAddonsOnly=true:NoSchedule'] });
    const aks = one(stack, 'containerservice:ManagedCluster').inputs;
    expect(aks).toMatchObject({
      kubernetesVersion: runs[stack].config.kubernetesVersion,
      nodeResourceGroup: `gpu-jobs-${stack}-nodes`,
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      workloadAutoScalerProfile: { keda: { enabled: true } },
      azureMonitorProfile: { metrics: { enabled: true } },
      ingressProfile: { webAppRouting: { enabled: true } },
      addonProfiles: {
        azureKeyvaultSecretsProvider: { enabled: true },
        omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: 'observability-logs-id', useAADAuth: 'true' } },
      },
      autoScalerProfile: { expander: 'least-waste' },
      disableLocalAccounts: true,
    });
  });

  it('Kubernetes version: a minor version in AKS standard support by default, overridable per stack', () => {
    // AKS supports the three newest GA minors; 1.31 and older are past standard support (December 2026)
    const [major, minor] = runs[stack].config.kubernetesVersion.split('.').map(Number);
    expect(major).toBe(1);
    expect(minor).toBeGreaterThanOrEqual(34);
    expect(() => validateStackConfig({ ...runs[stack].config, kubernetesVersion: '1.35.2' })).toThrow(/minor version/);
  });

  it("managed Prometheus and Container insights: the cluster's metrics and logs reach the workspaces Grafana and Log Analytics read", () => {
    const prom = one(stack, 'monitor:AzureMonitorWorkspace');
    const rules = of(stack, 'monitor:DataCollectionRule');
    const promRule = rules.find((r) => r.inputs['dataSources']?.prometheusForwarder) as Recorded;
    expect(promRule.inputs['dataFlows']).toEqual([{ streams: ['Microsoft-PrometheusMetrics'], destinations: ['MonitoringAccount1'] }]);
    const insights = rules.find((r) => r.inputs['dataSources']?.extensions) as Recorded;
    expect(insights.inputs['destinations'].logAnalytics[0].workspaceResourceId).toBe('observability-logs-id');
    const assoc = of(stack, 'monitor:DataCollectionRuleAssociation').map((a) => [
      a.inputs['associationName'],
      a.inputs['dataCollectionRuleId'],
      a.inputs['resourceUri'],
    ]);
    expect(assoc.sort()).toEqual(
      [
        ['ContainerInsightsExtension', insights.id, 'cluster-aks-id'],
        ['ContainerInsightsMetricsExtension', promRule.id, 'cluster-aks-id'],
      ].sort(),
    );
    expect(one(stack, 'dashboard:Grafana').inputs['properties'].grafanaIntegrations.azureMonitorWorkspaceIntegrations).toEqual([
      { azureMonitorWorkspaceResourceId: prom.id },
    ]);
    expect(one(stack, 'monitor:DiagnosticSetting').inputs).toMatchObject({
      resourceUri: 'cluster-aks-id',
      workspaceId: 'observability-logs-id',
    });
  });

  it('alerts: every rule of deploy/monitoring/alert-rules.yaml is an Azure Prometheus rule on the workspace and cluster, notifying the contacts', () => {
    const groups = of(stack, 'alertsmanagement:PrometheusRuleGroup');
    const file = loadAlertGroups();
    expect(groups.map((g) => g.inputs['ruleGroupName']).sort()).toEqual(file.map((g) => g.name).sort());
    const actionGroup = one(stack, 'monitor:ActionGroup');
    expect(actionGroup.inputs['emailReceivers'].map((r: { emailAddress: string }) => r.emailAddress)).toEqual(
      runs[stack].config.budgetContactEmails,
    );
    for (const g of groups) {
      expect(g.inputs['scopes']).toEqual([one(stack, 'monitor:AzureMonitorWorkspace').id, 'cluster-aks-id']);
      const want = file.find((f) => f.name === g.inputs['ruleGroupName'])?.rules ?? [];
      expect(g.inputs['rules'].map((r: { alert: string; expression: string }) => [r.alert, r.expression])).toEqual(
        want.map((r) => [r.alert, r.expr]),
      );
      for (const r of g.inputs['rules']) {
        expect(r.for).toMatch(/^PT\d+[SMH]$/);
        expect(r.actions).toEqual([{ actionGroupId: actionGroup.id }]);
      }
    }
  });

  it('ACR: no admin user, no anonymous pull; dev is the build registry (public, Entra ID only), staging and prod are private; the kubelet may pull', () => {
    expect(one(stack, 'containerregistry:Registry').inputs).toMatchObject({
      registryName: names(stack).registry,
      adminUserEnabled: false,
      anonymousPullEnabled: false,
      publicNetworkAccess: stack === 'dev' ? 'Enabled' : 'Disabled',
      networkRuleBypassOptions: 'AzureServices',
    });
    const pulls = of(stack, 'authorization:RoleAssignment').filter((r) => String(r.inputs['roleDefinitionId']).endsWith(ROLES.acrPull));
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.inputs['principalId']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('storage: no shared-key access, TLS 1.2, private; inputs, results and deployment containers, lifecycle rule; no unused model cache', () => {
    const account = one(stack, 'storage:StorageAccount');
    expect(account.inputs).toMatchObject({
      allowSharedKeyAccess: false,
      minimumTlsVersion: 'TLS1_2',
      publicNetworkAccess: 'Disabled',
      allowBlobPublicAccess: false,
    });
    expect(
      of(stack, 'storage:BlobContainer')
        .map((c) => c.inputs['containerName'])
        .sort(),
    ).toEqual(['inputs', 'results', 'scaler-deployments']);
    expect(of(stack, 'storage:FileShare')).toEqual([]);
    const rule = one(stack, 'storage:ManagementPolicy').inputs['policy'].rules[0];
    expect(rule.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan).toBe(runs[stack].config.retentionDays + 1);
  });

  it('Service Bus: one queue per lane of the model registry, with lock, deliveries, duplicate detection and dead-lettering on expiry', () => {
    const ns = one(stack, 'servicebus:Namespace').inputs;
    expect(ns).toMatchObject({ disableLocalAuth: true, sku: { name: runs[stack].config.serviceBusSku } });
    const queues = of(stack, 'servicebus:Queue');
    expect(queues.map((q) => q.inputs['queueName']).sort()).toEqual([...registryLanes()].sort());
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
    expect(endpoints.sort()).toEqual(['MongoCluster', 'blob', 'registry', 'vault', ...(premium ? ['namespace'] : [])].sort());
    expect(one(stack, 'mongocluster:MongoCluster').inputs['properties']).toMatchObject({ publicNetworkAccess: 'Disabled' });
    expect(one(stack, 'keyvault:Vault').inputs['properties']).toMatchObject({
      publicNetworkAccess: 'Disabled',
      enableRbacAuthorization: true,
    });
    expect(one(stack, 'servicebus:Namespace').inputs['publicNetworkAccess']).toBe(premium ? 'Disabled' : 'Enabled');
    expect(of(stack, 'network:PrivateDnsZoneGroup')).toHaveLength(endpoints.length);
  });

  it('data stores are protected from deletion in prod only', () => {
    const stores = ['mongocluster:MongoCluster', 'storage:StorageAccount', 'keyvault:Vault', 'servicebus:Namespace'];
    for (const t of stores) expect(one(stack, t).protect, t).toBe(stack === 'prod');
    expect(
      runs[stack].recorded
        .filter((r) => r.protect)
        .map((r) => r.type.replace('azure-native:', ''))
        .sort(),
    ).toEqual(stack === 'prod' ? [...stores].sort() : []);
  });

  it('globally unique names carry a suffix stable for the subscription and fit their services (storage and vault: 24)', () => {
    const n = names(stack);
    expect(one(stack, 'storage:StorageAccount').inputs['accountName']).toBe(n.storage);
    expect(one(stack, 'keyvault:Vault').inputs['vaultName']).toBe(n.keyVault);
    expect(one(stack, 'servicebus:Namespace').inputs['namespaceName']).toBe(n.serviceBus);
    expect(one(stack, 'mongocluster:MongoCluster').inputs['mongoClusterName']).toBe(n.mongo);
    expect(one(stack, 'dashboard:Grafana').inputs['workspaceName']).toBe(n.grafana);
    expect(one(stack, 'web:WebApp').inputs['name']).toBe(n.functionApp);
    expect(n.storage).toMatch(/^[a-z0-9]{3,24}$/);
    expect(n.registry).toMatch(/^[a-z0-9]{5,50}$/);
    expect(n.keyVault).toMatch(/^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
    expect(n.grafana.length).toBeLessThanOrEqual(23);
    expect(nameSuffix(MOCK_CLIENT.subscriptionId, stack)).not.toBe(nameSuffix('another-subscription', stack));
  });

  it('the MongoDB password goes into the connection string URI-encoded', () => {
    expect(mongoUri('admin', 'p@ss:w/rd%', 'c')).toContain('admin:p%40ss%3Aw%2Frd%25@c.global.mongocluster.cosmos.azure.com');
  });

  it('every role assignment targets a resource the program declares, so it is created after its target', () => {
    const ids = new Set(runs[stack].recorded.map((r) => r.id));
    for (const a of of(stack, 'authorization:RoleAssignment')) {
      const scope = String(a.inputs['scope']);
      const target = scope.replace(/\/namespaces\/[\w-]+$/, '');
      expect(ids.has(target), `${a.name}: ${scope}`).toBe(true);
    }
  });

  it('the nodes subnet lets HTTPS reach the ingress load balancer; the endpoints subnet only the VNet', () => {
    const nodes = of(stack, 'network:NetworkSecurityGroup').find((n) => n.name === 'network-nodes-nsg') as Recorded;
    expect(nodes.inputs['securityRules']).toContainEqual(
      expect.objectContaining({
        direction: 'Inbound',
        access: 'Allow',
        sourceAddressPrefix: 'Internet',
        destinationPortRanges: ['80', '443'],
      }),
    );
  });

  it('the budget covers the platform and the node resource group, where the GPU VM scale sets are billed', () => {
    const budget = one(stack, 'consumption:Budget').inputs;
    expect(budget['scope']).toBe(`/subscriptions/${MOCK_CLIENT.subscriptionId}`);
    expect(budget['filter']).toEqual({
      dimensions: { name: 'ResourceGroupName', operator: 'In', values: [`gpu-jobs-${stack}`, `gpu-jobs-${stack}-nodes`] },
    });
  });

  it("the scaler's Function App: Key Vault references resolve with its identity, Application Insights, no inbound, no basic auth", () => {
    const app = one(stack, 'web:WebApp').inputs;
    expect(app['keyVaultReferenceIdentity']).toBe('identity-scaler-id');
    expect(app['siteConfig']).toMatchObject({ ipSecurityRestrictionsDefaultAction: 'Deny', scmIpSecurityRestrictionsUseMain: false });
    const settings = Object.fromEntries(app['siteConfig'].appSettings.map((s: { name: string; value: string }) => [s.name, s.value]));
    expect(settings['APPLICATIONINSIGHTS_CONNECTION_STRING']).toMatch(/^InstrumentationKey=/);
    expect(settings['MONGODB_URI']).toBe(`@Microsoft.KeyVault(VaultName=${names(stack).keyVault};SecretName=mongodb-uri)`);
    expect(JSON.parse(settings['SCALER_POLICIES'])).toEqual(
      Object.fromEntries(
        Object.entries(runs[stack].config.scaling).map(([lane, s]) => [lane, { minReplicas: s.minWorkers, maxReplicas: s.maxWorkers }]),
      ),
    );
    expect(of(stack, 'web:WebAppScmAllowed').map((p) => p.inputs['allow'])).toEqual([false]);
    expect(of(stack, 'web:WebAppFtpAllowed').map((p) => p.inputs['allow'])).toEqual([false]);
  });

  it('the deploying principal may apply manifests, push or import images and import the dashboard; the ingress may read the TLS certificate', () => {
    const deployer = of(stack, 'authorization:RoleAssignment').filter((r) => r.inputs['principalId'] === MOCK_CLIENT.objectId);
    const role = (r: Recorded) => Object.entries(ROLES).find(([, id]) => String(r.inputs['roleDefinitionId']).endsWith(id))?.[0];
    expect(deployer.map((r) => [role(r), r.inputs['scope']]).sort()).toEqual(
      [
        ['aksRbacClusterAdmin', 'cluster-aks-id'],
        ['acrPush', 'cluster-acr-id'],
        ['grafanaAdmin', 'observability-grafana-id'],
      ].sort(),
    );
    const tls = of(stack, 'authorization:RoleAssignment').find((r) => r.name === 'app-routing-tls') as Recorded;
    expect([role(tls), tls.inputs['scope']]).toEqual(['keyVaultSecretsUser', 'data-kv-id']);
  });

  it('every resource that takes tags carries environment, owner and cost-center', () => {
    const untaggable = new Set([
      'servicebus:Queue',
      'storage:BlobContainer',
      'storage:ManagementPolicy',
      'network:PrivateDnsZoneGroup',
      'managedidentity:FederatedIdentityCredential',
      'authorization:RoleAssignment',
      'authorization:RoleDefinition',
      'keyvault:Secret',
      'consumption:Budget',
      'monitor:DataCollectionRuleAssociation',
      'monitor:DiagnosticSetting',
      'web:WebAppScmAllowed',
      'web:WebAppFtpAllowed',
    ]);
    const azure = runs[stack].recorded.filter((r) => r.type.startsWith('azure-native:'));
    const tagged = azure.filter((r) => !untaggable.has(r.type.replace('azure-native:', '')));
    expect(tagged.length).toBeGreaterThan(20);
    for (const r of tagged) expect(r.inputs['tags'], `${r.type} ${r.name}`).toEqual(tagsFor(runs[stack].config));
    expect(tagsFor(runs[stack].config)).toMatchObject({ environment: stack, owner: 'platform-team', 'cost-center': 'gpu-inference' });
  });

  it('outputs what the release pipeline needs, the secret ones secret', () => {
    const n = names(stack);
    expect(runs[stack].outputs).toMatchObject({
      acrLoginServer: `${n.registry}.azurecr.io`,
      serviceBusNamespace: `${n.serviceBus}.servicebus.windows.net`,
      queueNames: registryLanes(),
      blobEndpoint: `https://${n.storage}.blob.core.windows.net/`,
      tenantId: MOCK_CLIENT.tenantId,
      mongoAdminPasswordIsSecret: true,
    });
    expect(runs[stack].releaseValues).toMatchObject({
      environment: stack,
      lanes: registryLanes(),
      keyVaultName: n.keyVault,
      gpuQuota: gpuCapacity(runs[stack].config),
      authAudience: runs[stack].config.auth.audience,
      authIssuer: `https://login.microsoftonline.com/${MOCK_CLIENT.tenantId}/v2.0`,
      authJwksUrl: `https://login.microsoftonline.com/${MOCK_CLIENT.tenantId}/discovery/v2.0/keys`,
      tlsCertificateUri: `https://${n.keyVault}.vault.azure.net/certificates/gateway-tls`,
    });
  });
});

describe('stack configuration', () => {
  it('every difference between dev and prod configuration is a key set in a stack file', () => {
    // auth, ingress and budgetContactEmails are the operator's own (set with pulumi config, as the mocks do)
    const operators = ['auth', 'ingress', 'budgetContactEmails'];
    const setIn = new Set(
      [...Object.keys(stackFile('dev')), ...Object.keys(stackFile('prod')), ...operators].map((k) => k.replace('gpu-jobs:', '')),
    );
    const differing = (Object.keys(DEFAULTS) as (keyof StackConfig)[]).filter(
      (k) => JSON.stringify(runs.dev.config[k]) !== JSON.stringify(runs.prod.config[k]),
    );
    expect(differing.length).toBeGreaterThan(0);
    for (const k of differing) expect(setIn.has(k), k).toBe(true);
  });

  it('prod adds only what its settings imply: the Service Bus private endpoint', () => {
    const all = (stack: StackName) => new Set(runs[stack].recorded.map((r) => `${r.type} ${r.name}`));
    const extra = [...all('prod')].filter((n) => !all('dev').has(n));
    expect(extra.sort()).toEqual([
      'azure-native:network:PrivateDnsZoneGroup messaging-sb-pe-dns',
      'azure-native:network:PrivateEndpoint messaging-sb-pe',
    ]);
    expect([...all('dev')].filter((n) => !all('prod').has(n))).toEqual([]);
  });

  it('refuses settings that disagree with each other or with the model registry, naming the setting', () => {
    const c = runs.prod.config;
    expect(() => validateStackConfig({ ...c, spotPool: { ...c.spotPool, enabled: true } }, ['small-gpu'])).toThrow(
      /spotPool is enabled for lane batch-spot/,
    );
    expect(() => validateStackConfig(c, ['small-gpu', 'large-gpu'])).toThrow(/lane large-gpu .* has no GPU pool/);
    expect(() => validateStackConfig({ ...c, scaling: {} })).toThrow(/scaling.small-gpu/);
    expect(() => validateStackConfig({ ...c, scaling: { 'small-gpu': { minWorkers: 3, maxWorkers: 2 } } })).toThrow(
      /minWorkers <= maxWorkers/,
    );
    expect(() => validateStackConfig({ ...c, gpuPool: { ...c.gpuPool, vmSize: 'Standard_NC6s_v3' } })).toThrow(/GPUs per VM unknown/);
    // what only the operator can set has no default, and no stand-in gets through
    expect(() => validateStackConfig({ ...c, auth: { ...c.auth, audience: 'api://gpu-jobs' } })).toThrow(
      /auth.audience must be the API app registration/,
    );
    expect(() => validateStackConfig({ ...c, ingress: { ...c.ingress, host: 'api.gpu-jobs.example.com' } })).toThrow(/ingress.host/);
    expect(() => validateStackConfig({ ...c, ingress: { ...c.ingress, host: '' } })).toThrow(/ingress.host/);
    expect(() => validateStackConfig({ ...c, budgetContactEmails: ['platform-team@example.com'] })).toThrow(/budgetContactEmails/);
  });

  it("the GPU quota is the pools' capacity", () => {
    expect(gpuCapacity(runs.prod.config)).toBe(20);
    expect(gpuCapacity({ ...runs.prod.config, spotPool: { ...runs.prod.config.spotPool, enabled: true, maxCount: 4 } })).toBe(24);
  });
});
