import * as pulumi from '@pulumi/pulumi';
import * as storage from '@pulumi/azure-native/storage';
import type { StackConfig } from '../config';
import { privateEndpoint, type Network } from './network';
import type { ComponentArgs } from './component-args';

export interface StorageArgs extends ComponentArgs {
  config: StackConfig;
  network: Network;
}

/**
 * Blob storage for job inputs and results (no shared-key access: Entra ID only; TLS 1.2; public access off,
 * private endpoint), a lifecycle rule deleting inputs and results after the retention period, a container
 * for the scaler Function App's deployment package, and an NFS share for the model cache on a premium
 * FileStorage account (NFS needs one), also behind a private endpoint.
 */
export class Storage extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  readonly modelCache: storage.StorageAccount;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly deploymentContainer: storage.BlobContainer;

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Storage', name, {}, opts);
    const parent = { parent: this };
    const c = args.config;
    const locked = {
      minimumTlsVersion: 'TLS1_2',
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      publicNetworkAccess: 'Disabled',
      enableHttpsTrafficOnly: true,
      networkRuleSet: { defaultAction: 'Deny', bypass: 'AzureServices' },
    } as const;
    this.account = new storage.StorageAccount(
      `${name}-blobs`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: `gpujobs${c.environment}blobs`,
        kind: 'StorageV2',
        sku: { name: c.environment === 'prod' ? 'Standard_ZRS' : 'Standard_LRS' },
        ...locked,
        tags: args.tags,
      },
      parent,
    );
    const container = (n: string) =>
      new storage.BlobContainer(
        `${name}-${n}`,
        { resourceGroupName: args.resourceGroupName, accountName: this.account.name, containerName: n, publicAccess: 'None' },
        { parent: this.account },
      );
    container('inputs');
    container('results');
    this.deploymentContainer = container('scaler-deployments');
    new storage.ManagementPolicy(
      `${name}-retention`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: this.account.name,
        managementPolicyName: 'default',
        policy: {
          rules: [
            {
              name: 'delete-old-jobs',
              enabled: true,
              type: 'Lifecycle',
              definition: {
                filters: { blobTypes: ['blockBlob'], prefixMatch: ['inputs/', 'results/'] },
                actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: c.retentionDays + 1 } } },
              },
            },
          ],
        },
      },
      { parent: this.account },
    );
    this.modelCache = new storage.StorageAccount(
      `${name}-models`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: `gpujobs${c.environment}models`,
        kind: 'FileStorage',
        sku: { name: 'Premium_LRS' },
        ...locked,
        enableHttpsTrafficOnly: false, // NFS 4.1 does not use HTTPS; it is reachable only through the private endpoint
        tags: args.tags,
      },
      parent,
    );
    new storage.FileShare(
      `${name}-model-cache`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: this.modelCache.name,
        shareName: 'model-cache',
        enabledProtocols: 'NFS',
        shareQuota: 128,
        rootSquash: 'NoRootSquash',
      },
      { parent: this.modelCache },
    );
    for (const [key, target, groupId, zone] of [
      ['blob', this.account, 'blob', args.network.dnsZones.blob],
      ['file', this.modelCache, 'file', args.network.dnsZones.file],
    ] as const) {
      privateEndpoint(
        `${name}-${key}-pe`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          subnetId: args.network.endpointsSubnetId,
          targetId: target.id,
          groupId,
          dnsZone: zone,
          tags: args.tags,
        },
        this,
      );
    }
    this.blobEndpoint = this.account.primaryEndpoints.apply((e) => e.blob);
    this.registerOutputs({ blobEndpoint: this.blobEndpoint });
  }
}
