import * as keyvault from '@pulumi/azure-native/keyvault';
import * as mongocluster from '@pulumi/azure-native/mongocluster';
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../config';
import { privateEndpoint, type Network } from './network';
import type { ComponentArgs } from './component-args';

export interface DataArgs extends ComponentArgs {
  tenantId: pulumi.Input<string>;
  config: StackConfig;
  network: Network;
  /** The MongoDB administrator password (stack secret `gpu-jobs:mongoAdminPassword`). */
  mongoAdminPassword: pulumi.Input<string>;
}

/**
 * The task store: Azure Cosmos DB for MongoDB vCore (the MongoDB wire protocol with multi-document
 * transactions and TTL indexes, which the task store adapter uses, and a private endpoint), reachable only
 * by private endpoint. Key Vault in RBAC mode, private, holding the connection string the apps mount through
 * the Secrets Store CSI driver.
 */
export class Data extends pulumi.ComponentResource {
  readonly mongo: mongocluster.MongoCluster;
  readonly vault: keyvault.Vault;
  readonly connectionSecretName = 'mongodb-uri';

  constructor(name: string, args: DataArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Data', name, {}, opts);
    const parent = { parent: this };
    const c = args.config;
    this.mongo = new mongocluster.MongoCluster(
      `${name}-mongo`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        mongoClusterName: `gpujobs-${c.environment}-mongo`,
        properties: {
          administrator: { userName: c.mongo.administratorLogin, password: args.mongoAdminPassword },
          serverVersion: '7.0',
          compute: { tier: c.mongo.tier },
          storage: { sizeGb: c.mongo.storageGb },
          highAvailability: { targetMode: c.mongo.highAvailability ? 'ZoneRedundantPreferred' : 'Disabled' },
          sharding: { shardCount: 1 },
          publicNetworkAccess: 'Disabled',
        },
        tags: args.tags,
      },
      parent,
    );
    privateEndpoint(
      `${name}-mongo-pe`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.network.endpointsSubnetId,
        targetId: this.mongo.id,
        groupId: 'MongoCluster',
        dnsZone: args.network.dnsZones.mongo,
        tags: args.tags,
      },
      this,
    );
    this.vault = new keyvault.Vault(
      `${name}-kv`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: `gpujobs-${c.environment}-kv`,
        properties: {
          tenantId: args.tenantId,
          sku: { family: 'A', name: 'standard' },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 30,
          enablePurgeProtection: c.environment === 'prod' ? true : undefined,
          publicNetworkAccess: 'Disabled',
          networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' },
        },
        tags: args.tags,
      },
      parent,
    );
    privateEndpoint(
      `${name}-kv-pe`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.network.endpointsSubnetId,
        targetId: this.vault.id,
        groupId: 'vault',
        dnsZone: args.network.dnsZones.keyVault,
        tags: args.tags,
      },
      this,
    );
    const uri = pulumi.secret(
      pulumi.interpolate`mongodb+srv://${c.mongo.administratorLogin}:${args.mongoAdminPassword}@${this.mongo.name}.global.mongocluster.cosmos.azure.com/?tls=true&authMechanism=SCRAM-SHA-256&retrywrites=false&maxIdleTimeMS=120000`,
    );
    new keyvault.Secret(
      `${name}-mongo-uri`,
      {
        resourceGroupName: args.resourceGroupName,
        vaultName: this.vault.name,
        secretName: this.connectionSecretName,
        properties: { value: uri },
      },
      { parent: this.vault },
    );
    this.registerOutputs({ mongoCluster: this.mongo.name, vaultUri: this.vault.properties.apply((p) => p.vaultUri) });
  }
}
