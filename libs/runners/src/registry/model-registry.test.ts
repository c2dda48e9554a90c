import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, workspaceRoot } from '@gpu-jobs/testing';
import { ModelRegistryError, loadModelRegistry } from './model-registry';

const dir = makeTempDir('registry-');
afterAll(() => dir.remove());

function registryFile(content: unknown): string {
  const path = join(dir.path, `r-${Math.random()}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const base = {
  id: 'm',
  description: 'd',
  runner: 'tensor',
  lane: 'small-gpu',
  weights: { files: { model: '/dev/null' } },
  input: { kind: 'tensor', maxBytes: 10, tensors: [{ name: 'x', datatype: 'float32', shape: ['n', 3] }] },
  limits: { timeoutSeconds: 1, maxAttempts: 1, maxBatch: 1 },
  costUnits: 1,
};

describe('model registry', () => {
  it('loads the repository registry with every weight file present', () => {
    const index = loadModelRegistry(join(workspaceRoot(), 'config/models.json'));
    expect(index.get('ocr-en')?.runner).toBe('ocr');
    expect(index.forLane('small-gpu').map((m) => m.id)).toContain('ocr-en');
    expect(index.lanes()).toEqual(['small-gpu']);
  });

  it.each([
    ['not JSON', 'nope', /cannot read/],
    ['a schema error', { models: [{ ...base, runner: 'magic' }] }, /\/models\/0\/runner/],
    ['a duplicate id', { models: [base, base] }, /listed twice/],
    ['a missing file role', { models: [{ ...base, weights: { files: {} } }] }, /needs weights.files.model/],
    ['a missing file', { models: [{ ...base, weights: { files: { model: '/no/such.onnx' } } }] }, /not found at \/no\/such.onnx/],
    [
      'a missing package',
      { models: [{ ...base, weights: { package: 'no-such-weights-package', files: { model: 'm.onnx' } } }] },
      /not installed/,
    ],
  ])('refuses %s with a clear error', (_name, content, message) => {
    expect(() => loadModelRegistry(registryFile(content))).toThrow(ModelRegistryError);
    expect(() => loadModelRegistry(registryFile(content))).toThrow(message);
  });
});
