import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir, workspaceRoot, writeAddBiasModel, writeDivideByZeroModel } from '@gpu-jobs/testing';
import { PermanentInputError } from '../errors';
import { loadModel } from '../loaded-model';
import { loadModelRegistry, type ResolvedModel } from '../registry/model-registry';

const dir = makeTempDir('tensor-');
afterAll(() => dir.remove());

function entry(id: string, path: string): ResolvedModel {
  return {
    id,
    description: 'test',
    runner: 'tensor',
    lane: 'test',
    weights: { files: { model: path } },
    paths: { model: path },
    input: { kind: 'tensor', maxBytes: 1 << 20, tensors: [{ name: 'x', datatype: 'float32', shape: ['n', 3] }] },
    limits: { timeoutSeconds: 10, maxAttempts: 1, maxBatch: 1 },
    costUnits: 1,
  };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('tensor runner', () => {
  it('runs a model the test builds, named tensors in and out', async () => {
    const path = join(dir.path, 'add.onnx');
    writeAddBiasModel(path);
    const model = await loadModel(entry('add', path));
    await model.warmUp();
    const out = await model.run(json({ inputs: [{ name: 'x', datatype: 'float32', shape: [2, 3], data: [0, 0, 0, 10, 20, 30] }] }));
    expect(out).toEqual({ outputs: [{ name: 'y', datatype: 'float32', shape: [2, 3], data: [1, 2, 3, 11, 22, 33] }] });
    await model.release();
  });

  it('keeps non-finite outputs as "NaN", "Infinity" and "-Infinity" (JSON would make them null)', async () => {
    const path = join(dir.path, 'div.onnx');
    writeDivideByZeroModel(path);
    const model = await loadModel(entry('div', path));
    const out = await model.run(json({ inputs: [{ name: 'x', datatype: 'float32', shape: [2, 3], data: [1, 0, 5, -1, 0, 2] }] }));
    expect(out).toEqual({
      outputs: [{ name: 'y', datatype: 'float32', shape: [2, 3], data: ['Infinity', 'NaN', 5, '-Infinity', 'NaN', 2] }],
    });
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
    await model.release();
  });

  it.each([
    [{ inputs: [{ name: 'z', datatype: 'float32', shape: [1, 3], data: [1, 2, 3] }] }, /input x is missing/],
    [{ inputs: [{ name: 'x', datatype: 'int64', shape: [1, 3], data: [1, 2, 3] }] }, /must be float32/],
    [{ inputs: [{ name: 'x', datatype: 'float32', shape: [3], data: [1, 2, 3] }] }, /rank 2/],
    [{ inputs: [{ name: 'x', datatype: 'float32', shape: [1, 4], data: [1, 2, 3, 4] }] }, /dimension 1 must be 3/],
    [{ inputs: [{ name: 'x', datatype: 'float32', shape: [2, 3], data: [1, 2, 3] }] }, /3 values for shape \[2, 3\]/],
    [{ inputs: [] }, /input \/inputs/],
  ])('refuses a mismatched input with a clear reason (%#)', async (input, reason) => {
    const path = join(dir.path, 'add2.onnx');
    writeAddBiasModel(path);
    const model = await loadModel(entry('add', path));
    const err = await model.run(json(input)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentInputError);
    expect((err as Error).message).toMatch(reason);
    await model.release();
  });

  it('refuses to load a model whose registry entry declares other inputs', async () => {
    const path = join(dir.path, 'add3.onnx');
    writeAddBiasModel(path);
    const wrong = {
      ...entry('add', path),
      input: { kind: 'tensor' as const, maxBytes: 100, tensors: [{ name: 'x', datatype: 'float32' as const, shape: ['n', 4] }] },
    };
    await expect(loadModel(wrong)).rejects.toThrow(/model add: input x dimension 1: the model fixes it at 3/);
    const renamed = {
      ...entry('add', path),
      input: { kind: 'tensor' as const, maxBytes: 100, tensors: [{ name: 'y', datatype: 'float32' as const, shape: ['n', 3] }] },
    };
    await expect(loadModel(renamed)).rejects.toThrow(/no input named y/);
  });

  it('runs the OCR detection model as a plain tensor model', async () => {
    const registry = loadModelRegistry(join(workspaceRoot(), 'config/models.json'));
    const model = await loadModel(registry.get('text-detection-map') as ResolvedModel);
    const size = 32 * 32;
    const out = await model.run(
      json({ inputs: [{ name: 'x', datatype: 'float32', shape: [1, 3, 32, 32], data: new Array(3 * size).fill(0) }] }),
    );
    expect(out).toMatchObject({ outputs: [{ datatype: 'float32', shape: [1, 1, 32, 32] }] });
    const bad = await model
      .run(json({ inputs: [{ name: 'x', datatype: 'float32', shape: [1, 3, 32], data: new Array(3 * 32).fill(0) }] }))
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PermanentInputError);
    await model.release();
  });
});
