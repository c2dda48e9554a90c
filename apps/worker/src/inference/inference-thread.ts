// The inference thread: owns the ONNX Runtime sessions and runs one job at a time. onnxruntime-node's
// run blocks its thread for the whole inference, so it runs here, and the main thread keeps answering
// probes, renewing locks and serving metrics meanwhile.
import { parentPort } from 'node:worker_threads';
import { PermanentInputError, loadModel, type LoadedModel } from '@gpu-jobs/runners';
import type { FromThread, ThreadError, ToThread } from './protocol';

const port = parentPort;
if (!port) throw new Error('inference-thread.ts runs as a worker thread');

const models = new Map<string, LoadedModel>();
const cancelled = new Set<number>();
const post = (message: FromThread) => port.postMessage(message);

function describe(err: unknown): ThreadError {
  const e = err as Error;
  const out: ThreadError = { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
  if (err instanceof PermanentInputError) out.code = err.code;
  return out;
}

port.on('message', (message: ToThread) => {
  switch (message.type) {
    case 'load':
      void (async () => {
        try {
          const loadSeconds: Record<string, number> = {};
          for (const entry of message.models) {
            const started = performance.now();
            const model = await loadModel(entry, message.session);
            await model.warmUp();
            models.set(entry.id, model);
            loadSeconds[entry.id] = (performance.now() - started) / 1000;
          }
          post({ type: 'loaded', loadSeconds });
        } catch (err) {
          post({ type: 'load-failed', error: describe(err) });
        }
      })();
      return;
    case 'cancel':
      cancelled.add(message.runId);
      return;
    case 'run':
      void (async () => {
        const started = performance.now();
        try {
          const model = models.get(message.modelId);
          if (!model) throw new Error(`model ${message.modelId} is not loaded on this worker`);
          const result = await model.run(Buffer.from(message.input.buffer, message.input.byteOffset, message.input.byteLength), {
            onProgress: (progress) => post({ type: 'progress', runId: message.runId, progress }),
            shouldStop: () => cancelled.has(message.runId),
          });
          post({ type: 'result', runId: message.runId, result, seconds: (performance.now() - started) / 1000 });
        } catch (err) {
          post({ type: 'failed', runId: message.runId, error: describe(err) });
        } finally {
          cancelled.delete(message.runId);
        }
      })();
  }
});
