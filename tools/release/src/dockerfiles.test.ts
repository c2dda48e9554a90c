import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@gpu-jobs/testing';
import { describe, expect, it } from 'vitest';

// dockerfilelint (from npm) is the linter; it has no types of its own worth importing
const { run: lint } = (await import('dockerfilelint')) as unknown as {
  run: (configPath: string, content: string) => { rule: string; line: number; title: string }[];
};

const root = workspaceRoot();

/**
 * Docker's .dockerignore semantics, enough for this file: the last pattern matching a path or one of its parent
 * folders decides; `!` keeps.
 */
const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
/** Go's filepath.Match, which Docker uses: `*` and `?` within a path segment, dot files included; `**` any depth. */
function matchesGlob(path: string, pattern: string): boolean {
  const source = pattern
    .split('**')
    .map((part) =>
      part
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]'),
    )
    .join('.*');
  return new RegExp(`^${source}$`).test(path);
}
function inContext(path: string): boolean {
  let kept = true;
  const parts = path.split('/');
  for (const raw of ignore) {
    const keep = raw.startsWith('!');
    const pattern = (keep ? raw.slice(1) : raw).replace(/\/$/, '');
    const matches = parts.some((_, i) => matchesGlob(parts.slice(0, i + 1).join('/'), pattern));
    if (matches) kept = keep;
  }
  return kept;
}

describe('.dockerignore', () => {
  it('leaves out what no image needs (dependencies, git, the toolchain, local data, test output)', () => {
    for (const p of [
      'node_modules/x',
      '.git/HEAD',
      '.toolchain/node',
      '.data/queue.db',
      'apps/gateway/src/main.ts',
      'dist/apps/worker/node_modules/x',
    ])
      expect(inContext(p), p).toBe(false);
    for (const p of ['dist/apps/gateway/main.js', 'config/models.json', 'package.json']) expect(inContext(p), p).toBe(true);
  });
});
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

  it('pins every base image by digest', () => {
    for (const from of lines.filter((l) => l.startsWith('FROM '))) expect(from).toMatch(/^FROM \S+@sha256:[0-9a-f]{64}(\s|$)/);
  });

  it('sends only what it copies: every COPY source is in the build context .dockerignore leaves', () => {
    for (const copy of lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='))) {
      const sources = copy.split(/\s+/).slice(1, -1);
      for (const src of sources) expect(inContext(src.replace(/\/$/, '')), `${file}: ${src}`).toBe(true);
    }
  });

  if (file.endsWith('.cuda')) {
    it('CUDA variant: CUDA 12 + cuDNN 9 runtime base, the CUDA build of onnxruntime-node, linux-x64 binaries only', () => {
      expect(text).toMatch(/FROM nvidia\/cuda:12\.[\d.]+-cudnn-runtime/);
      expect(text).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
      expect(text).toContain('! -path "*/linux/x64" -exec rm -rf {} +');
    });

    it('CUDA variant: the build fails when the CUDA execution provider did not download or cannot load in the image', () => {
      expect(text).toContain('test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so');
      const final = text.slice(text.lastIndexOf('\nFROM '));
      expect(final).toMatch(/RUN ldd node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_cuda\.so/);
      expect(final).toContain('grep "not found"');
      // the check runs before the image drops to its non-root user
      expect(final.indexOf('RUN ldd')).toBeLessThan(final.indexOf('USER '));
    });
  }
});
