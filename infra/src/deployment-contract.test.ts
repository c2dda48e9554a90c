// The deployment contract: production is the Pulumi program, the rendered manifests, the apps' configuration
// schemas and the release, and each expects things of the others. Here every stack runs under Pulumi's mocks,
// its `releaseValues` fill deploy/ exactly as a release does (deploy/release), and the rendered overlay is held
// against the stack, the apps (each checks its own environment with --check-config) and the release's images.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { RELEASE_IMAGES, podSpec, policyViolations, renderRelease, validateObject, type K8sObject } from '@gpu-jobs/deployment';
import { workspaceRoot } from '@gpu-jobs/testing';
import { GPUS_PER_VM, registryLanes } from './config';
import { STACKS, runPlatform, type PlatformRun, type Recorded, type StackName } from './testing/mock-platform';

const run = promisify(execFile);
const root = workspaceRoot();
const deployRoot = fileURLToPath(new URL('../../deploy', import.meta.url));
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Stand-ins for the digests a release pushes. */
const DIGESTS = Object.fromEntries(RELEASE_IMAGES.map((img, i) => [img.image, `sha256:${String(i + 1).repeat(64)}`]));

const stacks = {} as Record<StackName, PlatformRun>;
const rendered = {} as Record<StackName, K8sObject[]>;
let skipped: string | undefined;

beforeAll(async () => {
  for (const stack of STACKS) {
    stacks[stack] = await runPlatform(stack);
    const r = renderRelease(deployRoot, stack, stacks[stack].releaseValues, DIGESTS);
    if (!r.ok) {
      skipped = r.reason;
      break;
    }
    rendered[stack] = r.objects;
  }
  if (skipped) console.warn(`[deployment-contract] SKIPPED the rendered-overlay checks: ${skipped}`);
}, 120_000);

const objects = (stack: StackName) => rendered[stack] ?? [];
const find = (stack: StackName, kind: string, name?: string) =>
  objects(stack).filter((o) => o.kind === kind && (!name || o.metadata.name === name));
const the = (stack: StackName, kind: string, name: string) => {
  const [o] = find(stack, kind, name);
  if (!o) throw new Error(`${kind} ${name} is not rendered`);
  return o;
};
const recorded = (stack: StackName, type: string) => stacks[stack].recorded.filter((r) => r.type === `azure-native:${type}`);
const spec = (o: K8sObject) => o['spec'] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const annotations = (o: K8sObject) => (o.metadata['annotations'] ?? {}) as Record<string, string>;
const workloads = (stack: StackName) => objects(stack).filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');

/** A container's environment as Kubernetes assembles it: its env, then ConfigMaps and Secrets by envFrom. */
function containerEnv(stack: StackName, workload: K8sObject): Record<string, string> {
  const pod = podSpec(workload);
  const c = pod['containers'][0];
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, the(stack, 'ConfigMap', from.configMapRef.name)['data'] as Record<string, string>);
    if (from.secretRef) {
      // a Secret synced from Key Vault by a SecretProviderClass: its keys, with stand-in values
      const spc = find(stack, 'SecretProviderClass').find((s) =>
        spec(s).secretObjects?.some((o: { secretName: string }) => o.secretName === from.secretRef.name),
      );
      if (!spc) throw new Error(`${workload.metadata.name}: no SecretProviderClass syncs Secret ${from.secretRef.name}`);
      for (const o of spec(spc).secretObjects[0].data as { key: string }[])
        env[o.key] = o.key === 'MONGODB_URI' ? 'mongodb+srv://u:p@from-key-vault/' : 'k'.repeat(48);
    }
  }
  for (const e of c.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return env;
}

/** The app itself checks an environment: `--check-config`, with DEPLOYMENT_PROFILE from that environment. */
async function checkConfig(app: 'gateway' | 'worker' | 'scaler', env: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const main = app === 'scaler' ? 'apps/scaler/src/local-main.ts' : `apps/${app}/src/main.ts`;
  try {
    const r = await run(process.execPath, ['--import', 'tsx', main, '--check-config'], {
      cwd: root,
      env: { PATH: process.env['PATH'] ?? '', TSX_TSCONFIG_PATH: join(root, 'tsconfig.base.json'), ...env },
      timeout: 90_000,
    });
    return { ok: true, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The Function App's settings as the scaler reads them. */
function functionAppSettings(stack: StackName): Record<string, string> {
  const app = recorded(stack, 'web:WebApp')[0] as Recorded;
  return Object.fromEntries(app.inputs['siteConfig'].appSettings.map((s: { name: string; value: string }) => [s.name, s.value]));
}

/** client id -> the subject its identity is federated with, from the program. */
function federations(stack: StackName): Map<string, string[]> {
  const ids = recorded(stack, 'managedidentity:UserAssignedIdentity');
  const out = new Map<string, string[]>();
  for (const f of recorded(stack, 'managedidentity:FederatedIdentityCredential')) {
    const identity = ids.find((i) => i.inputs['resourceName'] === f.inputs['resourceName']) as Recorded;
    const clientId = {
      gateway: stacks[stack].outputs['gatewayClientId'],
      worker: stacks[stack].outputs['workerClientId'],
      keda: stacks[stack].outputs['kedaClientId'],
    }[identity.name.replace('identity-', '') as 'gateway'] as string;
    expect(f.inputs['issuer']).toBe(stacks[stack].outputs['oidcIssuerUrl']);
    out.set(clientId, [...(out.get(clientId) ?? []), f.inputs['subject']]);
  }
  return out;
}

describe.skipIf(!!skipped).each(STACKS)('stack %s: the rendered overlay and the stack agree', (stack) => {
  it('renders objects that all validate, meeting the workload policy', () => {
    expect(objects(stack).length).toBeGreaterThan(25);
    for (const o of objects(stack)) validateObject(o);
    expect(policyViolations(objects(stack).filter((o) => o.kind === 'Deployment'))).toEqual([]);
  });

  it('has no placeholder left, and every id Azure expects as a GUID is one', () => {
    const text = JSON.stringify(objects(stack));
    expect(text).not.toMatch(/set-by-|set-by-overlay|00000000-0000-0000-0000|example\.invalid|placeholder/);
    const guids = [
      ...find(stack, 'ServiceAccount').map((sa) => annotations(sa)['azure.workload.identity/client-id']),
      ...find(stack, 'SecretProviderClass').flatMap((s) => [spec(s).parameters.clientID, spec(s).parameters.tenantId]),
      ...find(stack, 'TriggerAuthentication').map((t) => spec(t).podIdentity.identityId),
    ];
    expect(guids.length).toBeGreaterThanOrEqual(7);
    for (const g of guids) expect(g).toMatch(GUID);
  });

  it('every service account with workload identity or a SecretProviderClass has a federated credential for exactly that subject', () => {
    const fed = federations(stack);
    const ns = stacks[stack].config.namespace;
    for (const w of workloads(stack)) {
      const pod = podSpec(w);
      const labels = (spec(w).template.metadata.labels ?? {}) as Record<string, string>;
      const spcs = (pod['volumes'] ?? []).filter((v: { csi?: { driver: string } }) => v.csi?.driver === 'secrets-store.csi.k8s.io');
      if (labels['azure.workload.identity/use'] !== 'true' && spcs.length === 0) continue;
      const sa = the(stack, 'ServiceAccount', pod['serviceAccountName']);
      const clientId = annotations(sa)['azure.workload.identity/client-id'] as string;
      expect(fed.get(clientId), `${w.metadata.name}: ${sa.metadata.name}`).toEqual([`system:serviceaccount:${ns}:${sa.metadata.name}`]);
      for (const v of spcs) {
        const spc = the(stack, 'SecretProviderClass', v.csi.volumeAttributes.secretProviderClass);
        expect(spec(spc).parameters.clientID, `${w.metadata.name} mounts ${spc.metadata.name}`).toBe(clientId);
        expect(spec(spc).parameters.tenantId).toBe(stacks[stack].releaseValues.azureTenantId);
        expect(spec(spc).parameters.keyvaultName).toBe(stacks[stack].outputs['keyVaultName']);
      }
    }
    for (const t of find(stack, 'TriggerAuthentication')) {
      expect(spec(t).podIdentity.provider).toBe('azure-workload');
      expect(fed.get(spec(t).podIdentity.identityId)).toEqual(['system:serviceaccount:kube-system:keda-operator']);
    }
  });

  it('each app accepts its environment as a cloud deployment: every production variable set, no local-only default', async () => {
    const gateway = containerEnv(stack, the(stack, 'Deployment', 'gateway'));
    const worker = containerEnv(stack, the(stack, 'Deployment', `worker-${registryLanes()[0]}`));
    const scaler = functionAppSettings(stack);
    for (const env of [gateway, worker, scaler]) expect(env['DEPLOYMENT_PROFILE']).toBe('cloud');
    const results = await Promise.all([checkConfig('gateway', gateway), checkConfig('worker', worker), checkConfig('scaler', scaler)]);
    for (const [i, r] of results.entries()) expect(r.ok, `${['gateway', 'worker', 'scaler'][i]}: ${r.output}`).toBe(true);
    expect(gateway['AUTH_ISSUER']).toBe(stacks[stack].releaseValues.authIssuer);
  }, 120_000);

  it('lanes agree: config/models.json, the queues, worker Deployments, ScaledObjects, PDBs and the scaler', () => {
    const lanes = [...registryLanes()].sort();
    const settings = functionAppSettings(stack);
    const policies = JSON.parse(settings['SCALER_POLICIES'] as string) as Record<string, { minReplicas: number; maxReplicas: number }>;
    expect(
      recorded(stack, 'servicebus:Queue')
        .map((q) => q.inputs['queueName'])
        .sort(),
    ).toEqual(lanes);
    const workers = find(stack, 'Deployment').filter((d) => d.metadata.name.startsWith('worker-'));
    expect(workers.map((d) => d.metadata.name).sort()).toEqual(lanes.map((l) => `worker-${l}`));
    expect(
      find(stack, 'ScaledObject')
        .map((s) => s.metadata.name)
        .sort(),
    ).toEqual(lanes.map((l) => `worker-${l}`));
    expect(
      find(stack, 'PodDisruptionBudget')
        .map((p) => p.metadata.name)
        .filter((n) => n.startsWith('worker-'))
        .sort(),
    ).toEqual(lanes.map((l) => `worker-${l}`));
    expect(Object.keys(policies).sort()).toEqual(lanes);
    expect((settings['SCALER_LANES'] as string).split(',').sort()).toEqual(lanes);
    for (const lane of lanes) {
      const d = the(stack, 'Deployment', `worker-${lane}`);
      expect(containerEnv(stack, d)['WORKER_LANE']).toBe(lane);
      const so = spec(the(stack, 'ScaledObject', `worker-${lane}`));
      expect(so.scaleTargetRef.name).toBe(`worker-${lane}`);
      expect(so.triggers[0].metadata).toMatchObject({ queueName: lane, namespace: stacks[stack].releaseValues.serviceBusNamespaceName });
      expect(so.minReplicaCount, 'the scaler owns the floor').toBeUndefined();
      expect(so.maxReplicaCount).toBe(stacks[stack].config.scaling[lane]?.maxWorkers);
      expect(policies[lane]).toEqual({ minReplicas: stacks[stack].config.scaling[lane]?.minWorkers, maxReplicas: so.maxReplicaCount });
      expect(spec(the(stack, 'PodDisruptionBudget', `worker-${lane}`)).selector.matchLabels).toEqual(spec(d).selector.matchLabels);
    }
  });

  it('images: every image the release builds is deployed, every deployed image is built and pinned by digest, no latest', () => {
    const acr = stacks[stack].releaseValues.acrLoginServer;
    const platform = workloads(stack).filter((w) => w.metadata['namespace'] === stacks[stack].config.namespace);
    const images = platform.flatMap((w) => podSpec(w)['containers'].map((c: { image: string }) => c.image));
    expect([...new Set(images.map((i: string) => i.split('@')[0]))].sort()).toEqual(RELEASE_IMAGES.map((i) => `${acr}/${i.image}`).sort());
    for (const img of RELEASE_IMAGES) expect(images).toContain(`${acr}/${img.image}@${DIGESTS[img.image]}`);
    const addOns = workloads(stack).filter((w) => w.metadata['namespace'] === 'kube-system');
    for (const w of addOns) for (const c of podSpec(w)['containers']) expect(c.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(JSON.stringify(objects(stack))).not.toMatch(/:latest"/);
    for (const img of RELEASE_IMAGES) expect(readFileSync(join(root, img.dockerfile), 'utf8')).toMatch(/^FROM /m);
  });

  it('GPU pods are schedulable on paper: the device plugin runs on every GPU pool, and each lane lands on its pool', () => {
    const pools = (recorded(stack, 'containerservice:ManagedCluster')[0] as Recorded).inputs['agentPoolProfiles'] as {
      name: string;
      vmSize: string;
      maxCount: number;
      nodeTaints?: string[];
      nodeLabels?: Record<string, string>;
    }[];
    const gpuPools = pools.filter((p) => p.nodeLabels?.['sku'] === 'gpu');
    expect(gpuPools.length).toBeGreaterThan(0);
    const tolerates = (tolerations: { key: string; operator?: string; value?: string; effect?: string }[], taint: string) => {
      const [kv, effect] = taint.split(':');
      const [key, value] = (kv as string).split('=');
      return tolerations.some((t) => t.key === key && (t.operator === 'Exists' || t.value === value) && (!t.effect || t.effect === effect));
    };
    const selects = (selector: Record<string, string>, labels: Record<string, string> = {}) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    for (const name of ['nvidia-device-plugin', 'dcgm-exporter']) {
      const pod = podSpec(the(stack, 'DaemonSet', name));
      for (const p of gpuPools) {
        expect(selects(pod['nodeSelector'], p.nodeLabels), `${name} on pool ${p.name}`).toBe(true);
        for (const taint of p.nodeTaints ?? []) expect(tolerates(pod['tolerations'], taint), `${name} tolerates ${taint}`).toBe(true);
      }
    }
    let gpus = 0;
    for (const lane of registryLanes()) {
      const pod = podSpec(the(stack, 'Deployment', `worker-${lane}`));
      const pool = gpuPools.find((p) => selects(pod['nodeSelector'], p.nodeLabels));
      expect(pool, `a GPU pool for lane ${lane}`).toBeDefined();
      for (const taint of pool?.nodeTaints ?? [])
        expect(tolerates(pod['tolerations'], taint), `worker-${lane} tolerates ${taint}`).toBe(true);
      gpus +=
        Number(pod['containers'][0].resources.limits['nvidia.com/gpu']) *
        (spec(the(stack, 'ScaledObject', `worker-${lane}`)).maxReplicaCount as number);
    }
    const capacity = gpuPools.reduce((n, p) => n + p.maxCount * (GPUS_PER_VM[p.vmSize] ?? 0), 0);
    const quota = Number(spec(the(stack, 'ResourceQuota', 'gpu-jobs')).hard['requests.nvidia.com/gpu']);
    expect(quota).toBe(capacity);
    expect(gpus, 'every lane at its maximum fits the GPU quota').toBeLessThanOrEqual(quota);
  });

  it('the network reaches what the apps use: the endpoints subnet of the stack, AMQP to a public Service Bus, ingress from app routing', () => {
    const vnet = recorded(stack, 'network:VirtualNetwork')[0] as Recorded;
    const endpoints = vnet.inputs['subnets'].find((s: { name: string }) => s.name === 'endpoints').addressPrefix;
    const egress = spec(the(stack, 'NetworkPolicy', 'allow-azure-services')).egress as {
      to: { ipBlock: { cidr: string } }[];
      ports: { port: number }[];
    }[];
    expect(egress[0]?.to[0]?.ipBlock.cidr).toBe(endpoints);
    const publicPorts = egress[1]?.ports.map((p) => p.port) ?? [];
    expect(publicPorts).toContain(443);
    if (stacks[stack].config.serviceBusSku === 'Standard') expect(publicPorts, 'a Standard namespace is public: AMQP 5671').toContain(5671);
    const ingressFrom = spec(the(stack, 'NetworkPolicy', 'allow-gateway-ingress')).ingress[0].from[0].namespaceSelector.matchLabels;
    expect(ingressFrom).toEqual({ 'kubernetes.io/metadata.name': 'app-routing-system' });
  });

  it('the way in: the app routing class the cluster enables, the stack host, TLS from the Key Vault certificate the add-on may read', () => {
    const ingress = the(stack, 'Ingress', 'gateway');
    const v = stacks[stack].releaseValues;
    expect(spec(ingress).ingressClassName).toBe('webapprouting.kubernetes.azure.com');
    expect((recorded(stack, 'containerservice:ManagedCluster')[0] as Recorded).inputs['ingressProfile']).toEqual({
      webAppRouting: { enabled: true },
    });
    expect(spec(ingress).rules[0].host).toBe(stacks[stack].config.ingress.host);
    expect(spec(ingress).tls).toEqual([{ hosts: [stacks[stack].config.ingress.host], secretName: 'keyvault-gateway' }]);
    expect(annotations(ingress)['kubernetes.azure.com/tls-cert-keyvault-uri']).toBe(v.tlsCertificateUri);
    expect(v.tlsCertificateUri.startsWith(`https://${stacks[stack].outputs['keyVaultName']}.vault.azure.net/certificates/`)).toBe(true);
    expect(containerEnv(stack, the(stack, 'Deployment', 'gateway'))['PUBLIC_URL']).toBe(`https://${stacks[stack].config.ingress.host}`);
    // what the internet reaches: the API, its docs and the probes, never /metrics
    const paths = (spec(ingress).rules[0].http.paths as { path: string }[]).map((p) => p.path).sort();
    expect(paths).toEqual(['/docs', '/health', '/openapi.json', '/v1']);
  });

  it('metrics have a scraper: a PodMonitor for each app and for the DCGM exporter, on a port the pods expose', () => {
    for (const pm of find(stack, 'PodMonitor')) {
      expect(pm.apiVersion).toBe('azmonitoring.coreos.com/v1');
      const selector = spec(pm).selector.matchLabels as Record<string, string>;
      const targets = workloads(stack).filter(
        (w) =>
          w.metadata['namespace'] === pm.metadata['namespace'] &&
          Object.entries(selector).every(([k, val]) => spec(w).template.metadata.labels?.[k] === val),
      );
      expect(targets.length, pm.metadata.name).toBeGreaterThan(0);
      for (const t of targets) {
        const ports = podSpec(t)['containers'].flatMap((c: { ports?: { name: string }[] }) => (c.ports ?? []).map((p) => p.name));
        expect(ports).toContain(spec(pm).podMetricsEndpoints[0].port);
      }
    }
    expect(
      find(stack, 'PodMonitor')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['dcgm-exporter', 'gateway', 'worker']);
  });
});

describe.skipIf(!!skipped)('the contract catches the gaps it is about', () => {
  it('an app refuses a local-only default in a cloud deployment, naming the variable', async () => {
    const env = containerEnv('prod', the('prod', 'Deployment', 'gateway'));
    delete env['AUTH_ISSUER'];
    env['WEBHOOK_ALLOW_LOOPBACK'] = 'true';
    const r = await checkConfig('gateway', env);
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/AUTH_ISSUER/);
    expect(r.output).toMatch(/WEBHOOK_ALLOW_LOOPBACK/);
  }, 120_000);

  it('a release with a missing or malformed stack value is refused before anything renders', () => {
    const values = { ...stacks.prod.releaseValues, workerClientId: '00000000-0000-0000-0000-00000000p002' };
    expect(() => renderRelease(deployRoot, 'prod', values, DIGESTS)).toThrow(/workerClientId is malformed/);
    expect(() => renderRelease(deployRoot, 'prod', stacks.prod.releaseValues, { gateway: DIGESTS['gateway'] as string })).toThrow(
      /the digest of image worker-cuda is missing/,
    );
  });
});
