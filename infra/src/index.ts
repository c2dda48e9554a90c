// The Pulumi program: `pulumi preview --stack dev` (or `npm run nx -- preview infra --stack=dev`) shows the
// whole estate for a stack. Stack settings are in Pulumi.<stack>.yaml over the defaults of src/config.ts;
// the two secrets are set once per stack (docs/operations.md, "First deploy").
import * as pulumi from '@pulumi/pulumi';
import { loadStackConfig } from './config';
import { createPlatform } from './stack';

const config = loadStackConfig();
const stackConfig = new pulumi.Config('gpu-jobs');
const outputs = createPlatform(config, {
  mongoAdminPassword: stackConfig.requireSecret('mongoAdminPassword'),
  webhookMasterKey: stackConfig.requireSecret('webhookMasterKey'),
});

export const resourceGroupName = outputs.resourceGroupName;
export const clusterName = outputs.clusterName;
export const oidcIssuerUrl = outputs.oidcIssuerUrl;
export const acrLoginServer = outputs.acrLoginServer;
export const serviceBusNamespace = outputs.serviceBusNamespace;
export const queueNames = outputs.queueNames;
export const blobEndpoint = outputs.blobEndpoint;
export const mongoCluster = outputs.mongoCluster;
export const keyVaultName = outputs.keyVaultName;
export const gatewayClientId = outputs.gatewayClientId;
export const workerClientId = outputs.workerClientId;
export const scalerClientId = outputs.scalerClientId;
export const kedaClientId = outputs.kedaClientId;
export const tenantId = outputs.tenantId;
export const functionAppName = outputs.functionAppName;
export const grafanaName = outputs.grafanaName;
export const grafanaEndpoint = outputs.grafanaEndpoint;
export const mongoAdminPassword = outputs.mongoAdminPassword;
/** The deploy/ values of this stack: `pulumi stack output releaseValues --json | npm run -s release-values -- ...` */
export const releaseValues = outputs.releaseValues;
