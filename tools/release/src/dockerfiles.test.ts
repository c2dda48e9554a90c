import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@gpu-jobs/testing';
import { describe, expect, it } from 'vitest';

// dockerfilelint (from npm) is the linter; it has no types of its own worth importing
const { run: lint } = (await import('dockerfilelint')) as unknown as {
  run: (configPath: string, content: string) => { rule: string; line: number; title: string }[];
};

const root = workspaceRoot();
const IMAGES = [
  { file: 'apps/gateway/Dockerfile', app: 'gateway' },
  { file: 'apps/worker/Dockerfile', app: 'worker' },
  { file: 'apps/worker/Dockerfile.cuda', app: 'worker' },
];

describe.each(IMAGES)('$file', ({ file, app }) => {
  const text = readFileSync(join(root, file), 'utf8');
  const lines = text.split('\n').filter((l) => !l.startsWith('#'));

  it('passes dockerfilelint', () => {
    expect(lint(root, text).map((i) => `${i.line} ${i.rule}: ${i.title}`)).toEqual([]);
  });

  it('is multi-stage: production dependencies installed in a build stage from the bundle lockfile, copied into the final one', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(text).toContain(`COPY dist/apps/${app}/package.json dist/apps/${app}/package-lock.json ./`);
    expect(text).toMatch(/npm ci --omit=dev/);
    expect(text).toContain('COPY --from=deps /app/node_modules ./node_modules');
    expect(text).toContain(`COPY dist/apps/${app}/ ./`);
  });

  it('runs as a non-root user, with OCI labels carrying the revision, and no floating base tags', () => {
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d{3,}:[1-9]\d{3,}$/);
    expect(text).toContain('org.opencontainers.image.revision="${REVISION}"');
    expect(text).toContain('org.opencontainers.image.source=');
    for (const from of lines.filter((l) => l.startsWith('FROM '))) expect(from).not.toMatch(/:latest\b|^FROM [^:@\s]+(\s|$)/);
  });

  if (file.endsWith('.cuda')) {
    it('CUDA variant: CUDA 12 + cuDNN 9 runtime base, the CUDA build of onnxruntime-node, linux-x64 binaries only', () => {
      expect(text).toMatch(/FROM nvidia\/cuda:12\.[\d.]+-cudnn-runtime/);
      expect(text).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
      expect(text).toContain('! -path "*/linux/x64" -exec rm -rf {} +');
    });
  }
});
