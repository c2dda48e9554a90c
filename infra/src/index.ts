// The Pulumi program: `pulumi preview --stack dev` (or `npm run nx -- preview infra --stack=dev`) shows the
// whole estate for a stack. Stack settings are in Pulumi.<stack>.yaml over the defaults of src/config.ts.
import * as pulumi from '@pulumi/pulumi';
import { loadStackConfig } from './config';
import { createPlatform } from './stack';

const config = loadStackConfig();
const outputs = createPlatform(config, { mongoAdminPassword: new pulumi.Config('gpu-jobs').requireSecret('mongoAdminPassword') });

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
export const tenantId = outputs.tenantId;
export const functionAppName = outputs.functionAppName;
export const grafanaEndpoint = outputs.grafanaEndpoint;
export const mongoAdminPassword = outputs.mongoAdminPassword;
