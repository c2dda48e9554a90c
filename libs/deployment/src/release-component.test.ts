import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RELEASE_IMAGES } from './release-images';
import { renderReleaseComponent, valueProblems, type StackValues } from './release-component';

const tenant = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const values: StackValues = {
  environment: 'staging',
  namespace: 'gpu-jobs',
  lanes: ['small-gpu'],
  scaling: { 'small-gpu': { minWorkers: 1, maxWorkers: 4 } },
  azureTenantId: tenant,
  acrLoginServer: 'gjstgacr0a1b2c.azurecr.io',
  gatewayClientId: '0b9c1f2e-1111-4a5b-9c3d-123456789ab1',
  workerClientId: '0b9c1f2e-1111-4a5b-9c3d-123456789ab2',
  kedaClientId: '0b9c1f2e-1111-4a5b-9c3d-123456789ab3',
  keyVaultName: 'gj-stg-kv-0a1b2c',
  serviceBusNamespace: 'gj-stg-sb-0a1b2c.servicebus.windows.net',
  serviceBusNamespaceName: 'gj-stg-sb-0a1b2c',
  storageAccountUrl: 'https://gjstgblob0a1b2c.blob.core.windows.net',
  authIssuer: `https://login.microsoftonline.com/${tenant}/v2.0`,
  authAudience: 'api://gpu-jobs-staging',
  authJwksUrl: `https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`,
  authTenantClaim: 'azp',
  authAllowedIssuerTenants: '',
  ingressHost: 'api.staging.gpujobs.contoso.com',
  publicUrl: 'https://api.staging.gpujobs.contoso.com',
  tlsCertificateUri: 'https://gj-stg-kv-0a1b2c.vault.azure.net/certificates/gateway-tls',
  gpuQuota: 4,
  endpointsCidr: '10.40.16.0/24',
  acrName: 'gjstgacr0a1b2c',
  resourceGroupName: 'gpu-jobs-staging',
  clusterName: 'cluster-aks',
  functionAppName: 'gj-stg-scaler-0a1b2c',
  grafanaName: 'gj-stg-graf-0a1b2c',
};
const digests = Object.fromEntries(RELEASE_IMAGES.map((i) => [i.image, `sha256:${'ab'.repeat(32)}`]));

describe('the release component', () => {
  it('carries the stack values, the images by digest and each lane bound', () => {
    const c = parse(renderReleaseComponent(values, digests)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(c['kind']).toBe('Component');
    const gen = (name: string) => c['configMapGenerator'].find((g: { name: string }) => g.name === name);
    expect(gen('release-values').options.annotations).toEqual({ 'config.kubernetes.io/local-config': 'true' });
    expect(gen('release-values').literals).toContain(`KEDA_CLIENT_ID=${values.kedaClientId}`);
    expect(gen('platform-config').behavior).toBe('merge');
    expect(gen('gateway-config').literals).toContain(`AUTH_ISSUER=${values.authIssuer}`);
    expect(gen('gateway-config').literals.some((l: string) => l.startsWith('AUTH_ALLOWED_ISSUER_TENANTS'))).toBe(false);
    expect(c['images']).toEqual(
      RELEASE_IMAGES.map((i) => ({ name: i.manifestName, newName: `gjstgacr0a1b2c.azurecr.io/${i.image}`, digest: digests[i.image] })),
    );
    expect(parse(c['patches'][0].patch)).toEqual([{ op: 'replace', path: '/spec/maxReplicaCount', value: 4 }]);
  });

  it('refuses placeholders, malformed ids, missing lane bounds and missing or unknown digests, naming each', () => {
    expect(valueProblems(values, digests)).toEqual([]);
    const bad = { ...values, gatewayClientId: '00000000-0000-0000-0000-00000000p001', keyVaultName: 'set-by-release', scaling: {} };
    expect(valueProblems(bad, { gateway: 'sha256:abc', other: digests['gateway'] as string })).toEqual([
      'gatewayClientId is malformed (00000000-0000-0000-0000-00000000p001)',
      'keyVaultName is a placeholder (set-by-release)',
      'scaling.small-gpu.maxWorkers is missing',
      'the digest of image gateway is malformed (sha256:abc)',
      'the digest of image worker-cuda is missing (--image worker-cuda=sha256:...)',
      'image other is not released',
    ]);
    expect(() => renderReleaseComponent(bad, digests)).toThrow(/cannot write the release values/);
  });
});
