// These tests run the adapter against a loopback HTTP server that plays the Kubernetes API server: a
// recorded API, not a cluster. It answers with objects shaped as the API server returns them and records
// the exact paths, verbs, headers and bodies the adapter sends.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KubernetesOrchestrator, STATE_ANNOTATION, floorPatch, workersOf } from './kubernetes-orchestrator';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let kubeConfig: KubeConfig;
const recorded: Recorded[] = [];
let resourceVersion = '1001';
let scaledObject: Record<string, unknown>;

beforeEach(() => {
  recorded.length = 0;
  resourceVersion = '1001';
  scaledObject = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: {
      name: 'worker-small-gpu',
      namespace: 'gpu-jobs',
      resourceVersion,
      annotations: { [STATE_ANNOTATION]: '{"floor":1,"hourlyPeaks":{}}' },
    },
    spec: { scaleTargetRef: { name: 'worker-small-gpu' }, minReplicaCount: 1, maxReplicaCount: 8 },
  };
});

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      recorded.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const send = (status: number, obj: unknown) => {
        res.statusCode = status;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(obj));
      };
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/apis/apps/v1/namespaces/gpu-jobs/deployments/worker-small-gpu') {
        return send(200, {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'worker-small-gpu', namespace: 'gpu-jobs' },
          spec: { replicas: 3 },
          status: { replicas: 3, readyReplicas: 1, updatedReplicas: 3 },
        });
      }
      if (path === '/apis/keda.sh/v1alpha1/namespaces/gpu-jobs/scaledobjects/worker-small-gpu') {
        if (req.method === 'GET') return send(200, scaledObject);
        if (req.method === 'PATCH') {
          const patch = JSON.parse(body) as {
            metadata: { resourceVersion: string; annotations: Record<string, string> };
            spec: { minReplicaCount: number };
          };
          if (patch.metadata.resourceVersion !== resourceVersion) {
            return send(409, {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              reason: 'Conflict',
              code: 409,
              message: 'the object has been modified',
            });
          }
          resourceVersion = String(Number(resourceVersion) + 1);
          scaledObject = {
            ...scaledObject,
            metadata: { ...(scaledObject['metadata'] as object), resourceVersion, annotations: patch.metadata.annotations },
            spec: { ...(scaledObject['spec'] as object), minReplicaCount: patch.spec.minReplicaCount },
          };
          return send(200, scaledObject);
        }
      }
      send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'recorded', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'scaler', token: 'test-token' }],
    contexts: [{ name: 'recorded', cluster: 'recorded', user: 'scaler', namespace: 'gpu-jobs' }],
    currentContext: 'recorded',
  });
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const orchestrator = () => new KubernetesOrchestrator({ kubeConfig, namespace: 'gpu-jobs', nameFor: (lane) => `worker-${lane}` });

describe('KubernetesOrchestrator (recorded API)', () => {
  it("reads the lane's Deployment and ScaledObject with GETs on their exact paths", async () => {
    const scale = await orchestrator().read('small-gpu');
    expect(scale).toEqual({
      lane: 'small-gpu',
      readyWorkers: 1,
      startingWorkers: 2,
      floor: 1,
      maxReplicas: 8,
      state: '{"floor":1,"hourlyPeaks":{}}',
      version: '1001',
    });
    expect(recorded.map((r) => `${r.method} ${r.path.split('?')[0]}`).sort()).toEqual([
      'GET /apis/apps/v1/namespaces/gpu-jobs/deployments/worker-small-gpu',
      'GET /apis/keda.sh/v1alpha1/namespaces/gpu-jobs/scaledobjects/worker-small-gpu',
    ]);
    expect(recorded.every((r) => r.headers['authorization'] === 'Bearer test-token')).toBe(true);
  });

  it('merge-patches minReplicaCount and the state with the resourceVersion read', async () => {
    const o = orchestrator();
    expect(await o.write('small-gpu', { floor: 4, state: '{"floor":4}' }, '1001')).toBe(true);
    const patch = recorded.find((r) => r.method === 'PATCH');
    expect(patch?.path.split('?')[0]).toBe('/apis/keda.sh/v1alpha1/namespaces/gpu-jobs/scaledobjects/worker-small-gpu');
    expect(patch?.headers['content-type']).toBe('application/merge-patch+json');
    expect(JSON.parse(patch?.body ?? '{}')).toEqual({
      metadata: { resourceVersion: '1001', annotations: { [STATE_ANNOTATION]: '{"floor":4}' } },
      spec: { minReplicaCount: 4 },
    });
    expect(await o.read('small-gpu')).toMatchObject({ floor: 4, version: '1002', state: '{"floor":4}' });
  });

  it('a stale resourceVersion is a conflict (409): write answers false so the scaler reads again', async () => {
    expect(await orchestrator().write('small-gpu', { floor: 2, state: '{}' }, '999')).toBe(false);
    expect((scaledObject['spec'] as { minReplicaCount: number }).minReplicaCount).toBe(1);
  });

  it('other API errors are thrown', async () => {
    await expect(orchestrator().read('no-such-lane')).rejects.toThrow();
  });

  it('counts ready and starting pods, and builds the patch', () => {
    expect(workersOf({ spec: { replicas: 4 }, status: { replicas: 2, readyReplicas: 2 } } as never)).toEqual({
      readyWorkers: 2,
      startingWorkers: 2,
    });
    expect(workersOf({} as never)).toEqual({ readyWorkers: 0, startingWorkers: 0 });
    expect(floorPatch(3, 's', '7')).toEqual({
      metadata: { resourceVersion: '7', annotations: { [STATE_ANNOTATION]: 's' } },
      spec: { minReplicaCount: 3 },
    });
  });
});
