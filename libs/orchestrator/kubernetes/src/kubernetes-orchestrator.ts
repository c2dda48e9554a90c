import { AppsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import type { LaneScale, Orchestrator } from '@gpu-jobs/orchestrator';

export const KEDA = { group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects' } as const;
/** Where the scaler keeps its state on the lane's ScaledObject. */
export const STATE_ANNOTATION = 'gpu-jobs.io/scaler-state';

export interface KubernetesOrchestratorOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** A lane's worker Deployment and its KEDA ScaledObject share this name. */
  nameFor: (lane: string) => string;
}

/** In a pod: the service account's token and the cluster's CA; elsewhere: ~/.kube/config (or KUBECONFIG). */
export function loadKubeConfig(env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

interface ScaledObject {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { minReplicaCount?: number; maxReplicaCount?: number };
}

/** Ready and starting pods of a Deployment: starting = wanted or existing but not ready yet. */
export function workersOf(deployment: V1Deployment): { readyWorkers: number; startingWorkers: number } {
  const ready = deployment.status?.readyReplicas ?? 0;
  const wanted = Math.max(deployment.spec?.replicas ?? 0, deployment.status?.replicas ?? 0);
  return { readyWorkers: ready, startingWorkers: Math.max(0, wanted - ready) };
}

/** The merge patch that sets the floor and the scaler's state, valid only at the version read. */
export function floorPatch(floor: number, state: string, resourceVersion: string): object {
  return { metadata: { resourceVersion, annotations: { [STATE_ANNOTATION]: state } }, spec: { minReplicaCount: floor } };
}

/**
 * The orchestrator port on Kubernetes with KEDA: a lane's workers are its Deployment's pods; its floor is the
 * ScaledObject's `spec.minReplicaCount`. A write is a JSON merge patch carrying the resourceVersion read, so
 * the API server refuses it (409) when anyone changed the ScaledObject since: the scaler then re-reads and
 * decides again. The scaler's identity needs get on deployments and get/patch on scaledobjects, nothing else.
 */
export class KubernetesOrchestrator implements Orchestrator {
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(private readonly options: KubernetesOrchestratorOptions) {
    this.apps = options.kubeConfig.makeApiClient(AppsV1Api);
    this.custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async read(lane: string): Promise<LaneScale> {
    const name = this.options.nameFor(lane);
    const namespace = this.options.namespace;
    const [deployment, scaled] = await Promise.all([
      this.apps.readNamespacedDeployment({ name, namespace }),
      this.custom.getNamespacedCustomObject({ ...KEDA, namespace, name }) as Promise<ScaledObject>,
    ]);
    const scale: LaneScale = {
      lane,
      ...workersOf(deployment),
      floor: scaled.spec?.minReplicaCount ?? 0,
      maxReplicas: scaled.spec?.maxReplicaCount ?? 100,
      version: scaled.metadata?.resourceVersion ?? '',
    };
    const state = scaled.metadata?.annotations?.[STATE_ANNOTATION];
    if (state !== undefined) scale.state = state;
    return scale;
  }

  async write(lane: string, update: { floor: number; state: string }, version: string): Promise<boolean> {
    try {
      await this.custom.patchNamespacedCustomObject(
        {
          ...KEDA,
          namespace: this.options.namespace,
          name: this.options.nameFor(lane),
          body: floorPatch(update.floor, update.state, version),
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 409) return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    // HTTP only: nothing to close
  }
}
