// deploy/release/kustomization.yaml: the component every overlay includes, holding one environment's values
// from its Pulumi stack (`pulumi stack output releaseValues --json`) and the images by digest. Anything missing
// or malformed is refused, naming the value: a deploy never goes out with a placeholder.
import { stringify } from 'yaml';
import { RELEASE_IMAGES } from './release-images';

/**
 * A stack's `releaseValues` output (infra/src/release-values.ts makes it): what the release needs to deploy the
 * environment. Keys are stable; the deployment-contract tests hold deploy/ against them.
 */
export interface StackValues {
  environment: string;
  namespace: string;
  lanes: string[];
  scaling: Record<string, { minWorkers: number; maxWorkers: number }>;
  azureTenantId: string;
  acrLoginServer: string;
  acrName: string;
  gatewayClientId: string;
  workerClientId: string;
  kedaClientId: string;
  keyVaultName: string;
  serviceBusNamespace: string;
  serviceBusNamespaceName: string;
  storageAccountUrl: string;
  authIssuer: string;
  authAudience: string;
  authJwksUrl: string;
  authTenantClaim: string;
  authAllowedIssuerTenants: string;
  ingressHost: string;
  publicUrl: string;
  tlsCertificateUri: string;
  gpuQuota: number;
  endpointsCidr: string;
  resourceGroupName: string;
  clusterName: string;
  functionAppName: string;
  grafanaName: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The problems of a stack's values, each naming the value; empty when they can be deployed. */
export function valueProblems(v: Partial<StackValues>, digests: Record<string, string>): string[] {
  const out: string[] = [];
  const text = (k: keyof StackValues, pattern?: RegExp) => {
    const x = v[k];
    if (typeof x !== 'string' || x.length === 0) out.push(`${k} is missing`);
    else if (/set-by-|placeholder|(^|[./@])example\./.test(x)) out.push(`${k} is a placeholder (${x})`);
    else if (pattern && !pattern.test(x)) out.push(`${k} is malformed (${x})`);
  };
  for (const k of ['gatewayClientId', 'workerClientId', 'kedaClientId', 'azureTenantId'] as const) text(k, GUID);
  text('acrLoginServer', /^[a-z0-9]+\.azurecr\.io$/);
  text('keyVaultName', /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/);
  text('serviceBusNamespace', /^[a-z0-9-]+\.servicebus\.windows\.net$/);
  text('serviceBusNamespaceName', /^[a-z0-9-]+$/);
  text('storageAccountUrl', /^https:\/\/[a-z0-9]+\.blob\.core\.windows\.net$/);
  text('authIssuer', /^https:\/\//);
  text('authJwksUrl', /^https:\/\//);
  text('authAudience');
  text('authTenantClaim');
  text('ingressHost', /^[a-z0-9.-]+$/);
  text('publicUrl', /^https:\/\//);
  text('tlsCertificateUri', /^https:\/\/[a-z0-9-]+\.vault\.azure\.net\/certificates\/[\w-]+$/);
  text('endpointsCidr', /^\d+\.\d+\.\d+\.\d+\/\d+$/);
  text('namespace');
  text('environment');
  if (!Number.isInteger(v.gpuQuota) || (v.gpuQuota ?? 0) < 1) out.push('gpuQuota is missing');
  if (!Array.isArray(v.lanes) || v.lanes.length === 0) out.push('lanes is missing');
  for (const lane of v.lanes ?? []) {
    const s = v.scaling?.[lane];
    if (!s || !Number.isInteger(s.maxWorkers) || s.maxWorkers < 1) out.push(`scaling.${lane}.maxWorkers is missing`);
  }
  for (const img of RELEASE_IMAGES) {
    const d = digests[img.image];
    if (!d) out.push(`the digest of image ${img.image} is missing (--image ${img.image}=sha256:...)`);
    else if (!DIGEST.test(d)) out.push(`the digest of image ${img.image} is malformed (${d})`);
  }
  for (const name of Object.keys(digests)) if (!RELEASE_IMAGES.some((i) => i.image === name)) out.push(`image ${name} is not released`);
  return out;
}

/** The component's kustomization.yaml for one environment. */
export function renderReleaseComponent(v: StackValues, digests: Record<string, string>): string {
  const problems = valueProblems(v, digests);
  if (problems.length > 0) throw new Error(`cannot write the release values:\n  ${problems.join('\n  ')}`);
  const literals = (o: Record<string, string | number>) =>
    Object.entries(o)
      .filter(([, x]) => x !== '')
      .map(([k, x]) => `${k}=${x}`);
  const component = {
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    configMapGenerator: [
      {
        name: 'release-values',
        namespace: v.namespace,
        options: { annotations: { 'config.kubernetes.io/local-config': 'true' } },
        literals: literals({
          GATEWAY_CLIENT_ID: v.gatewayClientId,
          WORKER_CLIENT_ID: v.workerClientId,
          KEDA_CLIENT_ID: v.kedaClientId,
          AZURE_TENANT_ID: v.azureTenantId,
          KEY_VAULT_NAME: v.keyVaultName,
          SERVICEBUS_NAMESPACE_NAME: v.serviceBusNamespaceName,
          INGRESS_HOST: v.ingressHost,
          TLS_CERTIFICATE_URI: v.tlsCertificateUri,
          GPU_QUOTA: String(v.gpuQuota),
          ENDPOINTS_CIDR: v.endpointsCidr,
        }),
      },
      {
        name: 'platform-config',
        namespace: v.namespace,
        behavior: 'merge',
        literals: literals({ SERVICEBUS_NAMESPACE: v.serviceBusNamespace, AZURE_STORAGE_ACCOUNT_URL: v.storageAccountUrl }),
      },
      {
        name: 'gateway-config',
        namespace: v.namespace,
        literals: literals({
          AUTH_ISSUER: v.authIssuer,
          AUTH_AUDIENCE: v.authAudience,
          AUTH_JWKS_URL: v.authJwksUrl,
          AUTH_TENANT_CLAIM: v.authTenantClaim,
          AUTH_ALLOWED_ISSUER_TENANTS: v.authAllowedIssuerTenants,
          PUBLIC_URL: v.publicUrl,
        }),
      },
    ],
    generatorOptions: { disableNameSuffixHash: true },
    replacements: [{ path: 'replacements.yaml' }],
    images: RELEASE_IMAGES.map((img) => ({
      name: img.manifestName,
      newName: `${v.acrLoginServer}/${img.image}`,
      digest: digests[img.image],
    })),
    patches: v.lanes.map((lane) => ({
      target: { kind: 'ScaledObject', name: `worker-${lane}` },
      patch: stringify([{ op: 'replace', path: '/spec/maxReplicaCount', value: v.scaling[lane]?.maxWorkers }]),
    })),
  };
  return `# Generated by \`npm run -s release-values\` for ${v.environment}: not committed, written anew by every release.\n${stringify(component)}`;
}
