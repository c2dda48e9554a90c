// npm run -s affected -- --base <sha> --head <sha> | --files a,b | --all
// Prints, as a GitHub Actions matrix, the images to build for the deployable apps a change affects
// (through any lib they depend on), the Functions apps to redeploy, and every image a release deploys:
// {"include":[{"app":"worker","image":"worker-cuda","dockerfile":...}],"functions":["scaler"],"released":["gateway","worker-cuda"]}.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RELEASE_IMAGES } from '@gpu-jobs/deployment';

export interface ImageBuild {
  app: string;
  image: string;
  dockerfile: string;
}

/** Apps that ship as an Azure Functions package rather than an image. */
export const FUNCTIONS_APPS = ['scaler'] as const;

/** The Functions packages to deploy for a set of affected Nx projects. */
export function functionsFor(affectedProjects: readonly string[]): string[] {
  return FUNCTIONS_APPS.filter((app) => affectedProjects.includes(app));
}

/** The images to build for a set of affected Nx projects. */
export function imagesFor(affectedProjects: readonly string[]): ImageBuild[] {
  return RELEASE_IMAGES.filter((img) => affectedProjects.includes(img.app)).map(({ app, image, dockerfile }) => ({
    app,
    image,
    dockerfile,
  }));
}

/** Nx's affected projects between two commits (or for a list of changed files). */
export function affectedProjects(root: string, range: { base?: string; head?: string; files?: string[] }): string[] {
  const args = ['show', 'projects', '--affected', '--json'];
  if (range.files) args.push(`--files=${range.files.join(',')}`);
  else args.push(`--base=${range.base}`, `--head=${range.head}`);
  const r = spawnSync(join(root, 'node_modules/.bin/nx'), args, {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (r.status !== 0) throw new Error(`nx ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as string[];
}

if (process.argv[1]?.endsWith('affected-apps.ts')) {
  const { values } = parseArgs({
    options: { base: { type: 'string' }, head: { type: 'string' }, files: { type: 'string' }, all: { type: 'boolean' } },
  });
  if (!values.all && !values.files && (!values.base || !values.head)) {
    console.error('usage: affected-apps --base <sha> --head <sha> | --files a,b | --all');
    process.exit(2);
  }
  const root = process.cwd();
  const projects = values.all
    ? [...new Set([...RELEASE_IMAGES.map((i) => i.app), ...FUNCTIONS_APPS])]
    : affectedProjects(
        root,
        values.files ? { files: values.files.split(',') } : { base: values.base as string, head: values.head as string },
      );
  // a GitHub Actions matrix of images, the Functions apps to deploy, and every image a release deploys
  console.log(
    JSON.stringify({ include: imagesFor(projects), functions: functionsFor(projects), released: RELEASE_IMAGES.map((i) => i.image) }),
  );
}
