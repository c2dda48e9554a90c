import * as authorization from '@pulumi/azure-native/authorization';
import * as monitor from '@pulumi/azure-native/monitor';
import * as resources from '@pulumi/azure-native/resources';
import * as pulumi from '@pulumi/pulumi';
import { tagsFor, type StackConfig } from './config';
import { Cluster } from './components/cluster';
import { Data } from './components/data';
import { Functions } from './components/functions';
import { Identity, type AppName, type Grant } from './components/identity';
import { Messaging } from './components/messaging';
import { Network } from './components/network';
import { Observability } from './components/observability';
import { Storage } from './components/storage';

/**
 * The platform's whole Azure estate for one stack: the components in dependency order, the least-privilege
 * grants of each app's identity, and the outputs deploy/ and the release pipeline read.
 */
export function createPlatform(config: StackConfig, secrets: { mongoAdminPassword: pulumi.Input<string> }) {
  const tags = tagsFor(config);
  const client = authorization.getClientConfigOutput();
  const group = new resources.ResourceGroup('rg', { resourceGroupName: `gpu-jobs-${config.environment}`, location: config.location, tags });
  const common = { resourceGroupName: group.name, location: group.location, tags };

  const network = new Network('network', { ...common, cidr: config.vnetCidr });
  const observability = new Observability('observability', {
    ...common,
    resourceGroupId: group.id,
    subscriptionId: client.subscriptionId,
    config,
  });
  const cluster = new Cluster('cluster', { ...common, subscriptionId: client.subscriptionId, config, network });
  new monitor.DataCollectionRuleAssociation(
    'cluster-prometheus',
    {
      resourceUri: cluster.cluster.id,
      associationName: 'ContainerInsightsMetricsExtension',
      dataCollectionRuleId: observability.prometheusRule.id,
      description: "the cluster's managed Prometheus metrics go to the Azure Monitor workspace",
    },
    { parent: cluster },
  );
  const messaging = new Messaging('messaging', { ...common, config, network });
  const storage = new Storage('storage', { ...common, config, network });
  const data = new Data('data', { ...common, tenantId: client.tenantId, config, network, mongoAdminPassword: secrets.mongoAdminPassword });

  const queue = (lane: string) => (messaging.queues[lane] as { id: pulumi.Output<string> }).id;
  const container = (name: string) => pulumi.interpolate`${storage.account.id}/blobServices/default/containers/${name}`;
  const gpuLanes = [config.gpuPool.lane, ...(config.spotPool.enabled ? [config.spotPool.lane] : [])];
  const grants: Record<AppName, Grant[]> = {
    gateway: [
      ...config.lanes.map((lane) => ({
        key: `send-${lane}`,
        role: 'serviceBusDataSender' as const,
        scope: queue(lane),
        why: `submits, fair dispatch and repair send to ${lane}`,
      })),
      { key: 'inputs', role: 'storageBlobDataContributor', scope: container('inputs'), why: 'writes job inputs; the sweeper deletes them' },
      {
        key: 'results',
        role: 'storageBlobDataContributor',
        scope: container('results'),
        why: 'reads and deletes results; signs user-delegation SAS links',
      },
      { key: 'vault', role: 'keyVaultSecretsUser', scope: data.vault.id, why: 'mounts the MongoDB connection string' },
    ],
    worker: [
      ...gpuLanes.flatMap((lane) => [
        { key: `receive-${lane}`, role: 'serviceBusDataReceiver' as const, scope: queue(lane), why: `receives jobs of ${lane}` },
        {
          key: `send-${lane}`,
          role: 'serviceBusDataSender' as const,
          scope: queue(lane),
          why: `releases held jobs of ${lane} when one ends`,
        },
      ]),
      { key: 'inputs', role: 'storageBlobDataReader', scope: container('inputs'), why: 'reads job inputs' },
      { key: 'results', role: 'storageBlobDataContributor', scope: container('results'), why: 'writes large results' },
      { key: 'vault', role: 'keyVaultSecretsUser', scope: data.vault.id, why: 'mounts the MongoDB connection string' },
    ],
    scaler: [
      {
        key: 'queues',
        role: 'serviceBusDataOwner',
        scope: messaging.namespace.id,
        why: 'reads queue runtime counts (a management operation) and its lanes dead-letter queues',
      },
      { key: 'vault', role: 'keyVaultSecretsUser', scope: data.vault.id, why: 'reads the MongoDB connection string' },
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
        scope: container('scaler-deployments'),
        why: "the Function App's deployment package and host storage",
      },
    ],
  };
  const identity = new Identity('identity', {
    ...common,
    subscriptionId: client.subscriptionId,
    config,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    clusterId: cluster.cluster.id,
    grants,
  });
  const functions = new Functions('functions', {
    ...common,
    config,
    identity: identity.identities.scaler,
    subnetId: network.functionsSubnetId,
    blobEndpoint: storage.blobEndpoint,
    deploymentContainer: 'scaler-deployments',
    settings: {
      QUEUE_ADAPTER: 'servicebus',
      SERVICEBUS_NAMESPACE: pulumi.interpolate`${messaging.namespace.name}.servicebus.windows.net`,
      ServiceBus__fullyQualifiedNamespace: pulumi.interpolate`${messaging.namespace.name}.servicebus.windows.net`,
      ServiceBus__credential: 'managedidentity',
      ServiceBus__clientId: identity.identities.scaler.clientId,
      TASK_STORE_ADAPTER: 'mongodb',
      MONGODB_URI: pulumi.interpolate`@Microsoft.KeyVault(VaultName=${data.vault.name};SecretName=${data.connectionSecretName})`,
      SCALER_ORCHESTRATOR: 'kubernetes',
      K8S_NAMESPACE: config.namespace,
      SCALER_LANES: gpuLanes.join(','),
    },
  });

  return {
    resourceGroupName: group.name,
    clusterName: cluster.cluster.name,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    acrLoginServer: cluster.registry.loginServer,
    serviceBusNamespace: pulumi.interpolate`${messaging.namespace.name}.servicebus.windows.net`,
    queueNames: config.lanes,
    blobEndpoint: storage.blobEndpoint,
    mongoCluster: data.mongo.name,
    keyVaultName: data.vault.name,
    gatewayClientId: identity.identities.gateway.clientId,
    workerClientId: identity.identities.worker.clientId,
    scalerClientId: identity.identities.scaler.clientId,
    tenantId: client.tenantId,
    functionAppName: functions.app.name,
    grafanaEndpoint: observability.grafana.properties.apply((p) => p.endpoint),
    mongoAdminPassword: pulumi.secret(secrets.mongoAdminPassword),
  };
}
