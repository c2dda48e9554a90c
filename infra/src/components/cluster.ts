import * as authorization from '@pulumi/azure-native/authorization';
import * as containerregistry from '@pulumi/azure-native/containerregistry';
import * as containerservice from '@pulumi/azure-native/containerservice';
import * as pulumi from '@pulumi/pulumi';
import type * as azureTypes from '@pulumi/azure-native/types';
import { ROLES, type PoolConfig, type StackConfig } from '../config';
import { privateEndpoint, type Network } from './network';
import type { ComponentArgs } from './component-args';

export interface ClusterArgs extends ComponentArgs {
  subscriptionId: pulumi.Input<string>;
  config: StackConfig;
  network: Network;
  registryName: pulumi.Input<string>;
  /** Where Container insights sends logs. */
  logAnalyticsWorkspaceId: pulumi.Input<string>;
}

export const GPU_TAINT = 'sku=gpu:NoSchedule';
export const SPOT_TAINT = 'kubernetes.azure.com/scalesetpriority=spot:NoSchedule';

type PoolProfile = azureTypes.input.containerservice.ManagedClusterAgentPoolProfileArgs;

function pool(name: string, p: PoolConfig, subnetId: pulumi.Input<string>): PoolProfile {
  return {
    name,
    vmSize: p.vmSize,
    minCount: p.minCount,
    maxCount: p.maxCount,
    count: Math.max(p.minCount, 1),
    enableAutoScaling: true,
    mode: 'User',
    osType: 'Linux',
    osSKU: 'AzureLinux',
    type: 'VirtualMachineScaleSets',
    vnetSubnetID: subnetId,
  };
}

/**
 * AKS and its registry. Pools: `system` (critical add-ons only), `cpu` (gateway and control plane),
 * `gpu` (T4 class, tainted sku=gpu:NoSchedule, labelled with the accelerator and its lane) and, when enabled,
 * `spot` (Spot priority, eviction Delete, max price -1, its own taint and label) for the batch lane. The
 * cluster autoscaler uses the least-waste expander. OIDC issuer and workload identity on; KEDA, managed
 * Prometheus, Container insights (Entra ID auth), the application routing add-on (managed NGINX ingress, TLS
 * from Key Vault) and the Key Vault Secrets Store CSI driver as add-ons; local accounts off, Entra ID with
 * Azure RBAC. The node resource group is named, so the budget can cover the VM scale sets in it.
 *
 * ACR has no admin user and no anonymous pull; the kubelet identity may pull from it. The dev registry is the
 * build registry: reachable from the internet with Entra ID, so hosted CI runners can push. Staging and prod
 * registries are private; images reach them by `az acr import` of the dev registry's digest (an ARM operation,
 * which their network rules allow for trusted Azure services).
 */
export class Cluster extends pulumi.ComponentResource {
  readonly cluster: containerservice.ManagedCluster;
  readonly registry: containerregistry.Registry;
  readonly oidcIssuerUrl: pulumi.Output<string>;
  /** The application routing add-on's identity (reads the ingress TLS certificate from Key Vault). */
  readonly appRoutingPrincipalId: pulumi.Output<string>;
  readonly nodeResourceGroupName: string;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Cluster', name, {}, opts);
    const parent = { parent: this };
    const c = args.config;
    const subnet = args.network.nodesSubnetId;
    const profiles: PoolProfile[] = [
      {
        ...pool('system', c.systemPool, subnet),
        mode: 'System',
        nodeTaints: ['CriticalAddonsOnly=true:NoSchedule'],
        nodeLabels: { 'gpu-jobs/pool': 'system' },
      },
      { ...pool('cpu', c.cpuPool, subnet), nodeLabels: { 'gpu-jobs/pool': 'cpu' } },
      {
        ...pool('gpu', c.gpuPool, subnet),
        count: c.gpuPool.minCount,
        nodeTaints: [GPU_TAINT],
        nodeLabels: { sku: 'gpu', accelerator: 'nvidia-t4', 'gpu-jobs/lane': c.gpuPool.lane, 'gpu-jobs/pool': 'gpu' },
      },
      ...(c.spotPool.enabled
        ? [
            {
              ...pool('spot', c.spotPool, subnet),
              count: c.spotPool.minCount,
              scaleSetPriority: 'Spot',
              scaleSetEvictionPolicy: 'Delete',
              spotMaxPrice: -1,
              nodeTaints: [GPU_TAINT, SPOT_TAINT],
              nodeLabels: {
                sku: 'gpu',
                accelerator: 'nvidia-t4',
                'gpu-jobs/lane': c.spotPool.lane,
                'gpu-jobs/pool': 'spot',
                'kubernetes.azure.com/scalesetpriority': 'spot',
              },
            },
          ]
        : []),
    ];
    this.nodeResourceGroupName = `gpu-jobs-${c.environment}-nodes`;
    this.cluster = new containerservice.ManagedCluster(
      `${name}-aks`,
      {
        resourceGroupName: args.resourceGroupName,
        nodeResourceGroup: this.nodeResourceGroupName,
        location: args.location,
        dnsPrefix: `gpujobs-${c.environment}`,
        kubernetesVersion: c.kubernetesVersion,
        identity: { type: 'SystemAssigned' },
        sku: { name: 'Base', tier: c.environment === 'prod' ? 'Standard' : 'Free' },
        agentPoolProfiles: profiles,
        autoScalerProfile: {
          expander: 'least-waste',
          scaleDownUnneededTime: '10m',
          scaleDownDelayAfterAdd: '10m',
          maxGracefulTerminationSec: '3600',
        },
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: true } },
        workloadAutoScalerProfile: { keda: { enabled: true } },
        azureMonitorProfile: { metrics: { enabled: true } },
        ingressProfile: { webAppRouting: { enabled: true } },
        addonProfiles: {
          azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: 'true', rotationPollInterval: '2m' } },
          omsagent: { enabled: true, config: { logAnalyticsWorkspaceResourceID: args.logAnalyticsWorkspaceId, useAADAuth: 'true' } },
        },
        aadProfile: { managed: true, enableAzureRBAC: true },
        disableLocalAccounts: true,
        enableRBAC: true,
        networkProfile: {
          networkPlugin: 'azure',
          networkPluginMode: 'overlay',
          networkPolicy: 'cilium',
          networkDataplane: 'cilium',
          podCidr: '192.168.0.0/16',
        },
        autoUpgradeProfile: { upgradeChannel: 'patch', nodeOSUpgradeChannel: 'NodeImage' },
        tags: args.tags,
      },
      parent,
    );
    this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? '');
    this.appRoutingPrincipalId = this.cluster.ingressProfile.apply((p) => p?.webAppRouting?.identity?.objectId ?? '');

    this.registry = new containerregistry.Registry(
      `${name}-acr`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        registryName: args.registryName,
        sku: { name: 'Premium' }, // private endpoints need Premium
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        publicNetworkAccess: c.environment === 'dev' ? 'Enabled' : 'Disabled',
        networkRuleBypassOptions: 'AzureServices',
        tags: args.tags,
      },
      parent,
    );
    privateEndpoint(
      `${name}-acr-pe`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.network.endpointsSubnetId,
        targetId: this.registry.id,
        groupId: 'registry',
        dnsZone: args.network.dnsZones.acr,
        tags: args.tags,
      },
      this,
    );
    const kubeletObjectId = this.cluster.identityProfile.apply((p) => p?.['kubeletidentity']?.objectId ?? '');
    new authorization.RoleAssignment(
      `${name}-kubelet-acrpull`,
      {
        scope: this.registry.id,
        principalId: kubeletObjectId,
        principalType: 'ServicePrincipal',
        roleDefinitionId: pulumi.interpolate`/subscriptions/${args.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ROLES.acrPull}`,
      },
      parent,
    );
    this.registerOutputs({ clusterName: this.cluster.name, acrLoginServer: this.registry.loginServer, oidcIssuerUrl: this.oidcIssuerUrl });
  }
}
