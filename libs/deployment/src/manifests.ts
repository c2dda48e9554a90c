import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy, Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { PriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import { ConfigMap, LimitRange, Namespace, ResourceQuota, Service, ServiceAccount } from 'kubernetes-models/v1';
import { renderReleaseComponent, type StackValues } from './release-component';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: unknown }; [k: string]: unknown };

/**
 * The schema models of every kind the manifests use: Kubernetes' own, KEDA's, and the Prometheus operator's
 * PodMonitor, whose schema managed Prometheus' azmonitoring.coreos.com/v1 PodMonitor shares.
 */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'scheduling.k8s.io/v1/PriorityClass': PriorityClass,
  'v1/ConfigMap': ConfigMap,
  'v1/LimitRange': LimitRange,
  'v1/Namespace': Namespace,
  'v1/ResourceQuota': ResourceQuota,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
};

/** Validates one object against its kind's schema; throws naming the object and the failing field. */
export function validateObject(obj: K8sObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (key === 'secrets-store.csi.x-k8s.io/v1/SecretProviderClass') {
    // no published model: the CSI driver's required fields
    const spec = obj['spec'] as { provider?: string; parameters?: Record<string, string> } | undefined;
    if (spec?.provider !== 'azure' || !spec.parameters?.['keyvaultName'] || !spec.parameters['objects']) {
      throw new Error(`${obj.metadata.name}: a SecretProviderClass needs provider azure, keyvaultName and objects`);
    }
    return;
  }
  const azmonitoring = key === 'azmonitoring.coreos.com/v1/PodMonitor';
  const Model = MODELS[azmonitoring ? 'monitoring.coreos.com/v1/PodMonitor' : key];
  if (!Model) throw new Error(`${obj.metadata?.name}: no schema for ${key}`);
  try {
    new Model((azmonitoring ? { ...obj, apiVersion: 'monitoring.coreos.com/v1' } : obj) as never).validate();
  } catch (err) {
    throw new Error(`${key} ${obj.metadata?.name}: ${(err as Error).message}`);
  }
}

export function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(name) ? [path] : [];
  });
}

/** Every document of a YAML file; throws on a parse error with the file and line. */
export function parseYamlFile(path: string, root: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'));
  return docs.map((d) => {
    if (d.errors.length > 0) throw new Error(`${relative(root, path)}: ${d.errors[0]?.message}`);
    return d.toJSON() as unknown;
  });
}

export type Render = { ok: true; objects: K8sObject[] } | { ok: false; reason: string };

/** Renders an overlay with the kustomize built into kubectl; says why when it cannot. */
export function render(dir: string): Render {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error)
    return {
      ok: false,
      reason: `kubectl is not installed (${(r.error as NodeJS.ErrnoException).code}); apt-get install kubernetes-client`,
    };
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  return {
    ok: true,
    objects: parseAllDocuments(r.stdout)
      .map((d) => d.toJSON() as K8sObject)
      .filter(Boolean),
  };
}

/**
 * Renders an environment's overlay as a release would: a copy of deploy/ with the release component written
 * from the stack's values and the images' digests.
 */
export function renderRelease(deployRoot: string, env: string, values: StackValues, digests: Record<string, string>): Render {
  const copy = mkdtempSync(join(tmpdir(), `deploy-${env}-`));
  try {
    cpSync(deployRoot, copy, { recursive: true });
    writeFileSync(join(copy, 'release/kustomization.yaml'), renderReleaseComponent(values, digests));
    return render(join(copy, 'overlays', env));
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** The pod template of a workload (Deployment or DaemonSet). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function podSpec(obj: K8sObject): Record<string, any> {
  return (obj['spec'] as { template: { spec: Record<string, unknown> } }).template.spec;
}

interface Container {
  name: string;
  image: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: unknown;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  securityContext?: {
    runAsNonRoot?: boolean;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}

/** The policy every workload meets; returns the violations, empty when none. */
export function policyViolations(objects: readonly K8sObject[]): string[] {
  const out: string[] = [];
  for (const obj of objects) {
    if (obj.kind !== 'Deployment') continue;
    const pod = podSpec(obj);
    const podSecurity = pod['securityContext'] as { runAsNonRoot?: boolean } | undefined;
    const tolerations = (pod['tolerations'] as { key?: string; value?: string; effect?: string }[] | undefined) ?? [];
    for (const c of pod['containers'] as Container[]) {
      const where = `${obj.metadata.name}/${c.name}`;
      if (!c.resources?.requests?.['cpu'] || !c.resources.requests['memory']) out.push(`${where}: cpu and memory requests`);
      if (!c.resources?.limits?.['memory'] || !c.resources.limits['cpu']) out.push(`${where}: cpu and memory limits`);
      if (!c.startupProbe || !c.readinessProbe || !c.livenessProbe) out.push(`${where}: startup, readiness and liveness probes`);
      if (!(c.securityContext?.runAsNonRoot ?? podSecurity?.runAsNonRoot)) out.push(`${where}: runs as non-root`);
      if (!c.securityContext?.readOnlyRootFilesystem) out.push(`${where}: read-only root filesystem`);
      if (c.securityContext?.allowPrivilegeEscalation !== false) out.push(`${where}: no privilege escalation`);
      if (!c.securityContext?.capabilities?.drop?.includes('ALL')) out.push(`${where}: drops all capabilities`);
      const tag = c.image.includes('@') ? 'digest' : (c.image.split('/').pop()?.split(':')[1] ?? '');
      if (!tag || tag === 'latest') out.push(`${where}: image ${c.image} is not pinned (no tag, or latest)`);
      if (
        c.resources?.limits?.['nvidia.com/gpu'] &&
        !tolerations.some((t) => t.key === 'sku' && t.value === 'gpu' && t.effect === 'NoSchedule')
      ) {
        out.push(`${where}: a GPU workload must tolerate sku=gpu:NoSchedule`);
      }
    }
  }
  return out;
}
