import { TensorInput, fieldErrors, type OcrResult, type TensorOutput } from '@gpu-jobs/job-contract';
import { PermanentInputError, RunCancelledError } from './errors';
import { OcrPipeline, loadAlphabet, type RunHooks } from './ocr/ocr-pipeline';
import { ModelRegistryError, type ResolvedModel } from './registry/model-registry';
import { createSession, DEFAULT_SESSION_OPTIONS, type InferenceSession, type SessionOptions } from './sessions';
import { TensorRunner, declaredInputsMismatch } from './tensor/tensor-runner';

export type { RunHooks } from './ocr/ocr-pipeline';

/** A model with its sessions open, ready to run jobs. Created once per worker; owns its sessions. */
export interface LoadedModel {
  readonly entry: ResolvedModel;
  /** `input` is the stored input blob: image bytes for `ocr`, JSON named tensors for `tensor`. */
  run(input: Buffer, hooks?: RunHooks): Promise<OcrResult | TensorOutput>;
  /** One inference on synthetic input, so the first job does not pay for lazy initialisation. */
  warmUp(): Promise<void>;
  release(): Promise<void>;
}

export async function loadModel(entry: ResolvedModel, options: SessionOptions = DEFAULT_SESSION_OPTIONS): Promise<LoadedModel> {
  switch (entry.runner) {
    case 'ocr':
      return loadOcr(entry, options);
    case 'tensor':
      return loadTensor(entry, options);
  }
}

async function loadOcr(entry: ResolvedModel, options: SessionOptions): Promise<LoadedModel> {
  const sessions: { detection: InferenceSession; recognition: InferenceSession; classifier?: InferenceSession } = {
    detection: await createSession(entry.paths['detection'] as string, options),
    recognition: await createSession(entry.paths['recognition'] as string, options),
  };
  if (entry.paths['classifier']) sessions.classifier = await createSession(entry.paths['classifier'], options);
  const pipeline = new OcrPipeline(sessions, loadAlphabet(entry.paths['dictionary'] as string));
  return {
    entry,
    run: (input, hooks) => pipeline.run(input, hooks),
    warmUp: async () => {
      const { default: sharp } = await import('sharp');
      // a white page with one black bar: detection finds a box, so classifier and recognition run too
      const page = await sharp({ create: { width: 320, height: 96, channels: 3, background: '#ffffff' } })
        .composite([{ input: { create: { width: 200, height: 24, channels: 3, background: '#000000' } }, top: 36, left: 60 }])
        .png()
        .toBuffer();
      await pipeline.run(page);
    },
    release: () => Promise.all(Object.values(sessions).map((s) => s.release())).then(() => undefined),
  };
}

async function loadTensor(entry: ResolvedModel, options: SessionOptions): Promise<LoadedModel> {
  const session = await createSession(entry.paths['model'] as string, options);
  const runner = new TensorRunner(session);
  const mismatch = declaredInputsMismatch(entry.input.tensors ?? [], runner.inputs);
  if (mismatch) {
    await session.release();
    throw new ModelRegistryError(`model ${entry.id}: ${mismatch}`);
  }
  return {
    entry,
    // stages: decode the input, run the model; a cancel is honoured between them and before the result is kept
    run: async (input, hooks = {}) => {
      const stop = () => {
        if (hooks.shouldStop?.()) throw new RunCancelledError();
      };
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.toString('utf8'));
      } catch {
        throw new PermanentInputError('input_invalid', 'the input is not JSON');
      }
      const errors = fieldErrors(TensorInput, parsed);
      if (errors.length > 0) throw new PermanentInputError('input_invalid', `input ${errors[0]?.path || '/'} ${errors[0]?.message}`);
      hooks.onProgress?.({ stage: 'inference', done: 0, total: 1 });
      stop();
      const output = await runner.run(parsed as TensorInput);
      stop();
      hooks.onProgress?.({ stage: 'inference', done: 1, total: 1 });
      return output;
    },
    warmUp: async () => {
      // zeros in the declared shapes; a dynamic dimension becomes 1 for the batch and 32 elsewhere
      const inputs = runner.inputs.map((spec) => {
        const shape = spec.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : 32));
        return { name: spec.name, datatype: spec.type as 'float32', shape, data: new Array(shape.reduce((a, b) => a * b, 1)).fill(0) };
      });
      await runner.run({ inputs }).catch(() => undefined); // best effort: a model may need other sizes
    },
    release: () => session.release(),
  };
}
