// deploy/ on its own: every file parses, every complete object validates against its schema, the base meets
// the workload policy and the cluster add-ons are pinned. Rendered overlays, with a stack's values, are held
// against infra/, the apps and the release in infra's deployment-contract tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseYamlFile, podSpec, policyViolations, validateObject, yamlFiles, type K8sObject } from '@gpu-jobs/deployment';

const root = fileURLToPath(new URL('..', import.meta.url));
const isKustomization = (p: string) => /kustomization\.ya?ml$/.test(p);
const manifests = yamlFiles(root).filter((p) => !isKustomization(p) && !p.includes('/monitoring/') && !p.includes('/release/'));
const objects = manifests.flatMap((p) => parseYamlFile(p, root) as K8sObject[]).filter((o) => o && o.kind);

describe('deploy/ manifests', () => {
  it('every YAML file parses', () => {
    const all = yamlFiles(root);
    expect(all.length).toBeGreaterThan(20);
    for (const p of all) expect(() => parseYamlFile(p, root)).not.toThrow();
  });

  it('every object validates against its Kubernetes, KEDA or Prometheus operator schema', () => {
    // overlay patches are partial objects; the complete ones are checked here and, rendered, in the contract tests
    const complete = objects.filter(
      (o) => !manifests.find((p) => p.includes('/overlays/') && readFileSync(p, 'utf8').includes(`name: ${o.metadata.name}`)),
    );
    expect(complete.length).toBeGreaterThan(20);
    for (const o of complete) validateObject(o);
  });

  it('the policy holds on the base: requests, limits, probes, non-root, read-only, no latest, GPU tolerations', () => {
    expect(policyViolations(objects.filter((o) => o.kind === 'Deployment'))).toEqual([]);
  });

  it('the policy checks catch what they check', () => {
    const bad = JSON.parse(JSON.stringify(objects.find((o) => o.metadata.name === 'worker-small-gpu'))) as K8sObject;
    const pod = podSpec(bad);
    pod['tolerations'] = [];
    pod['containers'][0].image = 'gpujobs.azurecr.io/worker:latest';
    delete pod['containers'][0].livenessProbe;
    pod['containers'][0].securityContext.readOnlyRootFilesystem = false;
    expect(policyViolations([bad]).map((v) => v.split(': ')[1])).toEqual([
      'startup, readiness and liveness probes',
      'read-only root filesystem',
      'image gpujobs.azurecr.io/worker:latest is not pinned (no tag, or latest)',
      'a GPU workload must tolerate sku=gpu:NoSchedule',
    ]);
  });

  it('leaves replicas to the autoscalers and the floor to the scaler, so a server-side apply never resets them', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment'))
      expect((d['spec'] as Record<string, unknown>)['replicas'], d.metadata.name).toBeUndefined();
    for (const s of objects.filter((o) => o.kind === 'ScaledObject'))
      expect((s['spec'] as Record<string, unknown>)['minReplicaCount'], s.metadata.name).toBeUndefined();
  });

  it('the cluster add-ons are pinned by digest and run on GPU nodes only', () => {
    const addOns = objects.filter((o) => o.kind === 'DaemonSet');
    expect(addOns.map((d) => d.metadata.name).sort()).toEqual(['dcgm-exporter', 'nvidia-device-plugin']);
    for (const d of addOns) {
      expect(podSpec(d)['containers'][0].image).toMatch(/^nvcr\.io\/nvidia\/[\w/-]+@sha256:[0-9a-f]{64}$/);
      expect(podSpec(d)['nodeSelector']).toEqual({ sku: 'gpu' });
    }
  });

  it('the dashboard is valid JSON and only charts metrics that exist', () => {
    const dash = JSON.parse(readFileSync(`${root}/monitoring/grafana-dashboard.json`, 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const exported = readFileSync(`${root}/../libs/telemetry/src/metrics.ts`, 'utf8');
    const external = ['kube_deployment_status_replicas_ready', 'DCGM_FI_DEV_GPU_UTIL', 'DCGM_FI_DEV_FB_USED'];
    for (const panel of dash.panels) {
      for (const t of panel.targets) {
        const names = [...t.expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(?=\{|\[|\)| |$)/g)].map((m) => m[1] as string);
        const metrics = names.filter((n) => /_(total|seconds|messages|jobs|flight|bucket|ready|UTIL|USED)$|^lane_jobs$/.test(n));
        for (const m of metrics) expect(exported.includes(`'${m.replace(/_bucket$/, '')}'`) || external.includes(m), m).toBe(true);
      }
    }
  });
});
