import { workspaceRoot } from '@gpu-jobs/testing';
import { describe, expect, it } from 'vitest';
import { affectedProjects, functionsFor, imagesFor } from './affected-apps';

describe('affected deployable apps', () => {
  it('maps affected projects to the images to build', () => {
    expect(imagesFor(['gateway', 'job-contract']).map((i) => i.image)).toEqual(['gateway']);
    expect(imagesFor(['worker']).map((i) => i.image)).toEqual(['worker-cuda']);
    expect(imagesFor(['scaler', 'simulator', 'deploy'])).toEqual([]);
    expect(functionsFor(['scaler', 'gateway'])).toEqual(['scaler']);
    expect(functionsFor(['gateway'])).toEqual([]);
  });

  it("follows this repository's project graph: an app change builds that app, a shared lib change builds both", () => {
    const root = workspaceRoot();
    const images = (files: string[]) => imagesFor(affectedProjects(root, { files })).map((i) => i.image);
    expect(images(['apps/gateway/src/app.ts'])).toEqual(['gateway']);
    expect(images(['apps/worker/src/worker.ts'])).toEqual(['worker-cuda']);
    expect(images(['libs/job-contract/src/job.ts'])).toEqual(['gateway', 'worker-cuda']);
    expect(images(['tools/simulator/src/simulate.ts'])).toEqual([]);
    expect(images(['README.md'])).toEqual([]);
    expect(functionsFor(affectedProjects(root, { files: ['libs/scaling/src/policy.ts'] }))).toEqual(['scaler']);
  });
});
