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
  /** The gateway's webhook signing master key (stack secret `gpu-jobs:webhookMasterKey`): one for every replica. */
  webhookMasterKey: pulumi.Input<string>;
  mongoClusterName: pulumi.Input<string>;
  vaultName: pulumi.Input<string>;
}

/** The Key Vault secrets the apps mount (Secrets Store CSI driver), by object name. */
export const SECRETS = { mongodbUri: 'mongodb-uri', webhookMasterKey: 'webhook-master-key' } as const;

/** The MongoDB connection string; the password is URI-encoded (a `@`, `/` or `:` in it would otherwise break the URI). */
export function mongoUri(user: string, password: string, cluster: string): string {
  return `mongodb+srv://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${cluster}.global.mongocluster.cosmos.azure.com/?tls=true&authMechanism=SCRAM-SHA-256&retrywrites=false&maxIdleTimeMS=120000`;
}

/**
 * The task store: Azure Cosmos DB for MongoDB vCore (the MongoDB wire protocol with multi-document
 * transactions and TTL indexes, which the task store adapter uses, and a private endpoint), reachable only
 * by private endpoint. Key Vault in RBAC mode, private, holding the connection string the apps mount through
 * the Secrets Store CSI driver. The data stores are protected from deletion in prod.
 */
export class Data extends pulumi.ComponentResource {
  readonly mongo: mongocluster.MongoCluster;
  readonly vault: keyvault.Vault;
  readonly secrets: Record<keyof typeof SECRETS, keyvault.Secret>;

  constructor(name: string, args: DataArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Data', name, {}, opts);
    const parent = { parent: this };
    const c = args.config;
    this.mongo = new mongocluster.MongoCluster(
      `${name}-mongo`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        mongoClusterName: args.mongoClusterName,
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
      { ...parent, protect: c.environment === 'prod' },
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
        vaultName: args.vaultName,
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
      { ...parent, protect: c.environment === 'prod' },
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
      pulumi
        .all([args.mongoAdminPassword, this.mongo.name])
        .apply(([password, cluster]) => mongoUri(c.mongo.administratorLogin, password, cluster)),
    );
    const secret = (key: string, secretName: string, value: pulumi.Input<string>) =>
      new keyvault.Secret(
        `${name}-${key}`,
        { resourceGroupName: args.resourceGroupName, vaultName: this.vault.name, secretName, properties: { value: pulumi.secret(value) } },
        { parent: this.vault },
      );
    this.secrets = {
      mongodbUri: secret('mongo-uri', SECRETS.mongodbUri, uri),
      webhookMasterKey: secret('webhook-master-key', SECRETS.webhookMasterKey, args.webhookMasterKey),
    };
    this.registerOutputs({ mongoCluster: this.mongo.name, vaultUri: this.vault.properties.apply((p) => p.vaultUri) });
  }
}
