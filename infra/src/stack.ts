import * as authorization from '@pulumi/azure-native/authorization';
import * as resources from '@pulumi/azure-native/resources';
import * as pulumi from '@pulumi/pulumi';
import { ROLES, gpuCapacity, nameSuffix, registryLanes, tagsFor, uniqueNames, type StackConfig } from './config';
import { Cluster } from './components/cluster';
import { ClusterMonitoring } from './components/cluster-monitoring';
import { Data } from './components/data';
import { Functions } from './components/functions';
import { Identity, type AppName, type Grant } from './components/identity';
import { Messaging } from './components/messaging';
import { Network } from './components/network';
import { Observability } from './components/observability';
import { Storage } from './components/storage';
import { releaseValues } from './release-values';

export interface PlatformSecrets {
  mongoAdminPassword: pulumi.Input<string>;
  webhookMasterKey: pulumi.Input<string>;
}

/**
 * The platform's whole Azure estate for one stack: the components in dependency order, the least-privilege
 * grants of each identity (every scope is the id of the resource it names, so an assignment waits for its
 * target), and the outputs the release pipeline turns into the manifests' values (`releaseValues`).
 */
export function createPlatform(config: StackConfig, secrets: PlatformSecrets, componentOptions: pulumi.ComponentResourceOptions = {}) {
  // every component takes these options (e.g. a provider, or transformations) and passes them to its children
  const opts = componentOptions;
  const tags = tagsFor(config);
  const env = config.environment;
  const client = authorization.getClientConfigOutput();
  const lanes = registryLanes();
  const names = (config.nameSuffix ? pulumi.output(config.nameSuffix) : client.subscriptionId.apply((s) => nameSuffix(s, env))).apply(
    (suffix) => uniqueNames(env, suffix),
  );
  const group = new resources.ResourceGroup('rg', { resourceGroupName: `gpu-jobs-${env}`, location: config.location, tags });
  const common = { resourceGroupName: group.name, location: group.location, tags };
  const roleId = (role: keyof typeof ROLES) =>
    pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES[role]}`;

  const network = new Network('network', { ...common, cidr: config.vnetCidr }, opts);
  const nodeResourceGroup = `gpu-jobs-${env}-nodes`;
  const observability = new Observability(
    'observability',
    {
      ...common,
      subscriptionId: client.subscriptionId,
      config,
      grafanaName: names.grafana,
      budgetResourceGroups: [group.name, nodeResourceGroup],
    },
    opts,
  );
  const cluster = new Cluster(
    'cluster',
    {
      ...common,
      subscriptionId: client.subscriptionId,
      config,
      network,
      registryName: names.registry,
      logAnalyticsWorkspaceId: observability.logs.id,
    },
    opts,
  );
  new ClusterMonitoring('monitoring', { ...common, config, cluster, observability }, opts);
  const messaging = new Messaging('messaging', { ...common, config, network, namespaceName: names.serviceBus, lanes }, opts);
  const storage = new Storage('storage', { ...common, config, network, accountName: names.storage }, opts);
  const data = new Data(
    'data',
    {
      ...common,
      tenantId: client.tenantId,
      config,
      network,
      mongoAdminPassword: secrets.mongoAdminPassword,
      webhookMasterKey: secrets.webhookMasterKey,
      mongoClusterName: names.mongo,
      vaultName: names.keyVault,
    },
    opts,
  );

  const queue = (lane: string) => (messaging.queues[lane] as { id: pulumi.Output<string> }).id;
  const gpuLanes = [config.gpuPool.lane, ...(config.spotPool.enabled ? [config.spotPool.lane] : [])];
  const perQueue = (role: Grant['role'], why: (lane: string) => string, over = lanes) =>
    over.map((lane) => ({ key: `${role}-${lane}`, role, scope: queue(lane), why: why(lane) }));
  const grants: Record<AppName, Grant[]> = {
    gateway: [
      // Data Owner, queue by queue: sending needs Send, the queue_* metrics need the runtime counts (a Manage
      // operation of the administration client, which no narrower built-in role allows)
      ...perQueue('serviceBusDataOwner', (lane) => `submits, fair dispatch and repair send to ${lane}; its counts feed queue_* metrics`),
      {
        key: 'inputs',
        role: 'storageBlobDataContributor',
        scope: storage.containers.inputs.id,
        why: 'writes job inputs; the sweeper deletes them',
      },
      { key: 'results', role: 'storageBlobDataContributor', scope: storage.containers.results.id, why: 'reads and deletes results' },
      {
        key: 'delegation',
        role: 'storageBlobDelegator',
        scope: storage.account.id,
        why: 'gets a user delegation key (an account-level operation) to sign read-only result links',
      },
      { key: 'mongodb-uri', role: 'keyVaultSecretsUser', scope: data.secrets.mongodbUri.id, why: 'mounts the MongoDB connection string' },
      {
        key: 'webhook-master-key',
        role: 'keyVaultSecretsUser',
        scope: data.secrets.webhookMasterKey.id,
        why: 'mounts the webhook signing master key (the same for every replica)',
      },
    ],
    worker: [
      ...perQueue('serviceBusDataReceiver', (lane) => `receives, renews, completes and dead-letters jobs of ${lane}`, gpuLanes),
      ...perQueue('serviceBusDataSender', (lane) => `releases held jobs of ${lane} when one ends`, gpuLanes),
      { key: 'inputs', role: 'storageBlobDataReader', scope: storage.containers.inputs.id, why: 'reads job inputs' },
      { key: 'results', role: 'storageBlobDataContributor', scope: storage.containers.results.id, why: 'writes large results' },
      { key: 'mongodb-uri', role: 'keyVaultSecretsUser', scope: data.secrets.mongodbUri.id, why: 'mounts the MongoDB connection string' },
    ],
    scaler: [
      ...perQueue('serviceBusDataOwner', (lane) => `reads ${lane}'s runtime counts (Manage) and settles its dead letters`),
      {
        key: 'mongodb-uri',
        role: 'keyVaultSecretsUser',
        scope: data.secrets.mongodbUri.id,
        why: 'resolves the MONGODB_URI Key Vault reference',
      },
      { key: 'cluster-user', role: 'aksClusterUser', scope: cluster.cluster.id, why: 'gets a user kubeconfig for the cluster (Entra ID)' },
      {
        key: 'scaledobjects',
        role: 'scaledObjectEditor',
        scope: pulumi.interpolate`${cluster.cluster.id}/namespaces/${config.namespace}`,
        why: 'reads Deployments, patches KEDA ScaledObjects in its namespace',
      },
      {
        key: 'deployments',
        role: 'storageBlobDataContributor',
        scope: storage.containers['scaler-deployments'].id,
        why: "the Function App's deployment package and host storage",
      },
      {
        key: 'telemetry',
        role: 'monitoringMetricsPublisher',
        scope: observability.appInsights.id,
        why: 'sends its logs and traces to Application Insights (Entra ID ingestion; local auth is off)',
      },
    ],
    keda: perQueue(
      'serviceBusDataOwner',
      (lane) => `KEDA reads ${lane}'s active message count (a Manage operation) to scale its workers`,
      gpuLanes,
    ),
  };
  const identity = new Identity(
    'identity',
    {
      ...common,
      subscriptionId: client.subscriptionId,
      config,
      oidcIssuerUrl: cluster.oidcIssuerUrl,
      clusterId: cluster.cluster.id,
      grants,
    },
    opts,
  );

  // Outside the apps: the application routing add-on reads the ingress certificate; the deploying principal (the
  // release workflow's identity) applies the manifests, imports images and the dashboard.
  const assign = (
    name: string,
    role: keyof typeof ROLES,
    scope: pulumi.Input<string>,
    principalId: pulumi.Input<string>,
    description: string,
  ) =>
    new authorization.RoleAssignment(name, {
      scope,
      principalId,
      principalType: 'ServicePrincipal',
      roleDefinitionId: roleId(role),
      description,
    });
  assign(
    'app-routing-tls',
    'keyVaultSecretsUser',
    data.vault.id,
    cluster.appRoutingPrincipalId,
    'the ingress controller reads the TLS certificate',
  );
  assign(
    'deployer-cluster',
    'aksRbacClusterAdmin',
    cluster.cluster.id,
    client.objectId,
    'the release applies deploy/ (namespace, kube-system add-ons)',
  );
  assign(
    'deployer-registry',
    'acrPush',
    cluster.registry.id,
    client.objectId,
    'the release pushes (dev) or imports (staging, prod) images',
  );
  assign('deployer-grafana', 'grafanaAdmin', observability.grafana.id, client.objectId, 'the release imports the dashboard');

  const scaling = Object.fromEntries(
    lanes.map((lane) => [lane, { minReplicas: config.scaling[lane]?.minWorkers, maxReplicas: config.scaling[lane]?.maxWorkers }]),
  );
  const functions = new Functions(
    'functions',
    {
      ...common,
      config,
      identity: identity.identities.scaler,
      subnetId: network.functionsSubnetId,
      blobEndpoint: storage.blobEndpoint,
      deploymentContainer: 'scaler-deployments',
      appName: names.functionApp,
      appInsightsConnectionString: observability.appInsights.connectionString,
      settings: {
        DEPLOYMENT_PROFILE: 'cloud',
        QUEUE_ADAPTER: 'servicebus',
        TASK_STORE_ADAPTER: 'mongodb',
        BLOB_STORE_ADAPTER: 'azure',
        SERVICEBUS_NAMESPACE: pulumi.interpolate`${messaging.namespace.name}.servicebus.windows.net`,
        ServiceBus__fullyQualifiedNamespace: pulumi.interpolate`${messaging.namespace.name}.servicebus.windows.net`,
        ServiceBus__credential: 'managedidentity',
        ServiceBus__clientId: identity.identities.scaler.clientId,
        MONGODB_URI: pulumi.interpolate`@Microsoft.KeyVault(VaultName=${data.vault.name};SecretName=${data.secrets.mongodbUri.name})`,
        AZURE_STORAGE_ACCOUNT_URL: storage.blobEndpoint,
        AZURE_STORAGE_CREATE_CONTAINERS: 'false',
        SCALER_ORCHESTRATOR: 'kubernetes',
        K8S_NAMESPACE: config.namespace,
        SCALER_LANES: gpuLanes.join(','),
        SCALER_POLICIES: JSON.stringify(scaling),
      },
    },
    opts,
  );

  return {
    resourceGroupName: group.name,
    clusterName: cluster.cluster.name,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    acrLoginServer: cluster.registry.loginServer,
    serviceBusNamespace: pulumi.interpolate`${messaging.namespace.name}.servicebus.windows.net`,
    queueNames: lanes,
    blobEndpoint: storage.blobEndpoint,
    mongoCluster: data.mongo.name,
    keyVaultName: data.vault.name,
    gatewayClientId: identity.identities.gateway.clientId,
    workerClientId: identity.identities.worker.clientId,
    scalerClientId: identity.identities.scaler.clientId,
    kedaClientId: identity.identities.keda.clientId,
    tenantId: client.tenantId,
    functionAppName: functions.app.name,
    grafanaName: observability.grafana.name,
    grafanaEndpoint: observability.grafana.properties.apply((p) => p.endpoint),
    mongoAdminPassword: pulumi.secret(secrets.mongoAdminPassword),
    releaseValues: releaseValues({
      config,
      lanes,
      tenantId: client.tenantId,
      acrLoginServer: cluster.registry.loginServer,
      acrName: cluster.registry.name,
      clientIds: {
        gateway: identity.identities.gateway.clientId,
        worker: identity.identities.worker.clientId,
        keda: identity.identities.keda.clientId,
      },
      keyVaultName: data.vault.name,
      serviceBusNamespaceName: messaging.namespace.name,
      blobEndpoint: storage.blobEndpoint,
      endpointsCidr: network.endpointsCidr,
      gpuQuota: gpuCapacity(config),
      resourceGroupName: group.name,
      clusterName: cluster.cluster.name,
      functionAppName: functions.app.name,
      grafanaName: observability.grafana.name,
    }),
  };
}
