import type { ResolvedModel, SessionOptions } from '@gpu-jobs/runners';

/** Messages between the worker's main thread and an inference thread. */
export type ToThread =
  | { type: 'load'; models: ResolvedModel[]; session: SessionOptions }
  | { type: 'run'; runId: number; modelId: string; input: Uint8Array }
  | { type: 'cancel'; runId: number };

export interface ThreadError {
  name: string;
  message: string;
  /** PermanentInputError code, when the input is at fault. */
  code?: string;
}

export type FromThread =
  | { type: 'loaded'; loadSeconds: Record<string, number> }
  | { type: 'load-failed'; error: ThreadError }
  | { type: 'progress'; runId: number; progress: { stage: string; done?: number; total?: number } }
  | { type: 'result'; runId: number; result: unknown; seconds: number }
  | { type: 'failed'; runId: number; error: ThreadError };
