/**
 * The images a release builds and deploys: each is built from its Dockerfile when its app is affected, pushed
 * to the dev registry, promoted by digest, and replaces the manifests' image of the same role. (The CPU worker
 * image, apps/worker/Dockerfile, is for running a worker without a GPU; no environment deploys it.)
 */
export interface ReleaseImage {
  app: string;
  image: string;
  dockerfile: string;
  /** The image name the manifests in deploy/ use for it, before the release sets registry and digest. */
  manifestName: string;
}

export const RELEASE_IMAGES: readonly ReleaseImage[] = [
  { app: 'gateway', image: 'gateway', dockerfile: 'apps/gateway/Dockerfile', manifestName: 'gpujobs.azurecr.io/gateway' },
  { app: 'worker', image: 'worker-cuda', dockerfile: 'apps/worker/Dockerfile.cuda', manifestName: 'gpujobs.azurecr.io/worker' },
];
