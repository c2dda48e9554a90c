import * as pulumi from '@pulumi/pulumi';
import type { StackValues } from '@gpu-jobs/deployment';
import type { StackConfig } from './config';

/** What the release pipeline needs from a stack: `pulumi stack output releaseValues --json` (deploy/release). */
export type ReleaseValues = StackValues;

export interface ReleaseValuesArgs {
  config: StackConfig;
  lanes: string[];
  tenantId: pulumi.Input<string>;
  acrLoginServer: pulumi.Input<string>;
  acrName: pulumi.Input<string>;
  clientIds: { gateway: pulumi.Input<string>; worker: pulumi.Input<string>; keda: pulumi.Input<string> };
  keyVaultName: pulumi.Input<string>;
  serviceBusNamespaceName: pulumi.Input<string>;
  blobEndpoint: pulumi.Input<string>;
  endpointsCidr: string;
  gpuQuota: number;
  resourceGroupName: pulumi.Input<string>;
  clusterName: pulumi.Input<string>;
  functionAppName: pulumi.Input<string>;
  grafanaName: pulumi.Input<string>;
}

/** Entra ID v2.0 endpoints of the API's directory (or of any directory, for a multi-tenant API). */
export function entraAuth(auth: StackConfig['auth'], deployerTenantId: string) {
  const directory = auth.multiTenant ? '{tenantid}' : (auth.directoryId ?? deployerTenantId);
  const keysDirectory = auth.multiTenant ? 'common' : directory;
  return {
    issuer: `https://login.microsoftonline.com/${directory}/v2.0`,
    jwksUrl: `https://login.microsoftonline.com/${keysDirectory}/discovery/v2.0/keys`,
  };
}

export function releaseValues(a: ReleaseValuesArgs): pulumi.Output<ReleaseValues> {
  const c = a.config;
  return pulumi
    .all({
      tenantId: a.tenantId,
      acrLoginServer: a.acrLoginServer,
      acrName: a.acrName,
      gateway: a.clientIds.gateway,
      worker: a.clientIds.worker,
      keda: a.clientIds.keda,
      vault: a.keyVaultName,
      sb: a.serviceBusNamespaceName,
      blob: a.blobEndpoint,
      rg: a.resourceGroupName,
      cluster: a.clusterName,
      fn: a.functionAppName,
      grafana: a.grafanaName,
    })
    .apply((u): ReleaseValues => {
      // Input<string> unwraps to string | undefined; an unknown value becomes '' and the release refuses it
      type Key =
        | 'tenantId'
        | 'acrLoginServer'
        | 'acrName'
        | 'gateway'
        | 'worker'
        | 'keda'
        | 'vault'
        | 'sb'
        | 'blob'
        | 'rg'
        | 'cluster'
        | 'fn'
        | 'grafana';
      const v = Object.fromEntries(Object.entries(u).map(([k, x]) => [k, x ?? ''])) as Record<Key, string>;
      const { tenantId, acrLoginServer, acrName, gateway, worker, keda, vault, sb, blob, rg, cluster, fn, grafana } = v;
      const auth = entraAuth(c.auth, tenantId);
      return {
        environment: c.environment,
        namespace: c.namespace,
        lanes: a.lanes,
        scaling: c.scaling,
        azureTenantId: tenantId,
        acrLoginServer,
        acrName,
        gatewayClientId: gateway,
        workerClientId: worker,
        kedaClientId: keda,
        keyVaultName: vault,
        serviceBusNamespace: `${sb}.servicebus.windows.net`,
        serviceBusNamespaceName: sb,
        storageAccountUrl: blob.replace(/\/$/, ''),
        authIssuer: auth.issuer,
        authAudience: c.auth.audience,
        authJwksUrl: auth.jwksUrl,
        authTenantClaim: c.auth.tenantClaim,
        authAllowedIssuerTenants: c.auth.allowedDirectories.join(','),
        ingressHost: c.ingress.host,
        publicUrl: `https://${c.ingress.host}`,
        tlsCertificateUri: `https://${vault}.vault.azure.net/certificates/${c.ingress.certificateName}`,
        gpuQuota: a.gpuQuota,
        endpointsCidr: a.endpointsCidr,
        resourceGroupName: rg,
        clusterName: cluster,
        functionAppName: fn,
        grafanaName: grafana,
      };
    });
}
