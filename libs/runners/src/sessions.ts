import * as ort from 'onnxruntime-node';

/** How the worker creates ONNX Runtime sessions: one place, so the execution provider is configuration. */
export interface SessionOptions {
  /** `cpu` everywhere; `cuda` on GPU nodes (needs the CUDA build of onnxruntime-node, see deploy/). */
  executionProvider: 'cpu' | 'cuda';
  intraOpThreads: number;
  interOpThreads: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { executionProvider: 'cpu', intraOpThreads: 2, interOpThreads: 1 };

export type InferenceSession = ort.InferenceSession;
export const Tensor = ort.Tensor;

export async function createSession(modelPath: string, options: SessionOptions = DEFAULT_SESSION_OPTIONS): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    executionProviders: [options.executionProvider],
    intraOpNumThreads: options.intraOpThreads,
    interOpNumThreads: options.interOpThreads,
    graphOptimizationLevel: 'all',
  });
}
