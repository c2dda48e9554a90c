import * as pulumi from '@pulumi/pulumi';
import * as web from '@pulumi/azure-native/web';
import type * as managedidentity from '@pulumi/azure-native/managedidentity';
import type { StackConfig } from '../config';
import type { ComponentArgs } from './component-args';

export interface FunctionsArgs extends ComponentArgs {
  config: StackConfig;
  identity: managedidentity.UserAssignedIdentity;
  subnetId: pulumi.Input<string>;
  blobEndpoint: pulumi.Input<string>;
  deploymentContainer: pulumi.Input<string>;
  appName: pulumi.Input<string>;
  /** Application Insights: the connection string (ingestion with the scaler's identity, local auth off). */
  appInsightsConnectionString: pulumi.Input<string>;
  /** App settings the scaler reads (adapters, namespace, lanes...). */
  settings: Record<string, pulumi.Input<string>>;
}

/**
 * The scaler's Function App on the Flex Consumption plan (FC1): Node.js runtime, VNet integration into the
 * functions subnet (so it reaches the private endpoints and the cluster), the scaler's identity for
 * everything, including the deployment package container and Key Vault references (no storage keys
 * anywhere), one always-ready instance for the 30-second timer, Application Insights with Entra ID ingestion.
 *
 * Network posture: the scaler has timer and Service Bus triggers only, so its site refuses every inbound
 * request (access restrictions default Deny); the SCM (deployment) endpoint stays reachable so the release
 * workflow on a hosted runner can deploy, with basic (FTP/SCM) credentials disabled: deploys need Entra ID.
 */
export class Functions extends pulumi.ComponentResource {
  readonly app: web.WebApp;

  constructor(name: string, args: FunctionsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gpu-jobs:infra:Functions', name, {}, opts);
    const parent = { parent: this };
    const plan = new web.AppServicePlan(
      `${name}-plan`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: 'functionapp',
        reserved: true,
        sku: { name: 'FC1', tier: 'FlexConsumption' },
        tags: args.tags,
      },
      parent,
    );
    const identityId = args.identity.id;
    const clientId = args.identity.clientId;
    this.app = new web.WebApp(
      `${name}-app`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        name: args.appName,
        kind: 'functionapp,linux',
        serverFarmId: plan.id,
        httpsOnly: true,
        publicNetworkAccess: 'Enabled',
        keyVaultReferenceIdentity: identityId,
        virtualNetworkSubnetId: args.subnetId,
        identity: { type: 'UserAssigned', userAssignedIdentities: [identityId] },
        functionAppConfig: {
          deployment: {
            storage: {
              type: 'blobContainer',
              value: pulumi.interpolate`${args.blobEndpoint}${args.deploymentContainer}`,
              authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId },
            },
          },
          runtime: { name: 'node', version: '22' },
          scaleAndConcurrency: {
            maximumInstanceCount: 40,
            instanceMemoryMB: 2048,
            alwaysReady: [{ name: 'function:reactiveMonitor', instanceCount: 1 }],
          },
        },
        siteConfig: {
          minTlsVersion: '1.2',
          ipSecurityRestrictionsDefaultAction: 'Deny',
          scmIpSecurityRestrictionsUseMain: false,
          scmIpSecurityRestrictionsDefaultAction: 'Allow',
          appSettings: [
            {
              name: 'AzureWebJobsStorage__accountName',
              value: pulumi.output(args.blobEndpoint).apply((e) => new URL(e).hostname.split('.')[0] ?? ''),
            },
            { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' },
            { name: 'AzureWebJobsStorage__clientId', value: clientId },
            { name: 'AZURE_CLIENT_ID', value: clientId },
            { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: args.appInsightsConnectionString },
            { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: pulumi.interpolate`ClientId=${clientId};Authorization=AAD` },
            ...Object.entries(args.settings).map(([k, v]) => ({ name: k, value: v })),
          ],
        },
        tags: args.tags,
      },
      parent,
    );
    for (const [key, Policy] of [
      ['scm', web.WebAppScmAllowed],
      ['ftp', web.WebAppFtpAllowed],
    ] as const) {
      new Policy(
        `${name}-no-basic-auth-${key}`,
        { resourceGroupName: args.resourceGroupName, name: this.app.name, allow: false },
        { parent: this.app },
      );
    }
    this.registerOutputs({ functionAppName: this.app.name });
  }
}
