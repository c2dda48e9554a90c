import { Tensor, type InferenceSession } from '../sessions';
import { writeChwBgr } from './image';

export const REC_HEIGHT = 48;
export const CLS_WIDTH = 192;
const HALF = [0.5, 0.5, 0.5] as const;

/** A text line cropped from the page, resized to REC_HEIGHT (RGB raw). */
export interface LineCrop {
  rgb: Buffer;
  width: number;
}

export interface Recognised {
  text: string;
  confidence: number;
}

/** Packs crops of one height into a right-padded NCHW batch as wide as the widest crop. */
function batchTensor(crops: LineCrop[], height: number, width: number): InstanceType<typeof Tensor> {
  const data = new Float32Array(crops.length * 3 * height * width);
  crops.forEach((c, i) => writeChwBgr(data, i * 3 * height * width, c.rgb, c.width, height, width, HALF, HALF));
  return new Tensor('float32', data, [crops.length, 3, height, width]);
}

/**
 * Direction classifier: which crops are upside down (class 1 = 180 degrees, taken only when confident).
 * Crops must be CLS_WIDTH wide at most.
 */
export async function upsideDown(session: InferenceSession, crops: LineCrop[], threshold = 0.9): Promise<boolean[]> {
  if (crops.length === 0) return [];
  const out = await session.run({ [session.inputNames[0] as string]: batchTensor(crops, REC_HEIGHT, CLS_WIDTH) });
  const probs = out[session.outputNames[0] as string]?.data as Float32Array;
  return crops.map((_, i) => (probs[i * 2 + 1] as number) > threshold);
}

/** Rotates an RGB raw image by 180 degrees (pixel order reversed). */
export function rotate180(crop: LineCrop, height: number): LineCrop {
  const pixels = crop.width * height;
  const out = Buffer.alloc(crop.rgb.length);
  for (let i = 0; i < pixels; i++) crop.rgb.copy(out, (pixels - 1 - i) * 3, i * 3, i * 3 + 3);
  return { rgb: out, width: crop.width };
}

/** CTC greedy decoding: best class per time step, repeats merged, blanks (class 0) dropped. */
export function ctcDecode(probs: Float32Array, steps: number, classes: number, offset: number, alphabet: readonly string[]): Recognised {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const base = offset + t * classes;
    let best = 0;
    let bestP = probs[base] as number;
    for (let c = 1; c < classes; c++) {
      const p = probs[base + c] as number;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += alphabet[best] ?? '';
      sum += bestP;
      kept += 1;
    }
    previous = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}

/** Recognises crops in batches of similar width (less padding), keeping the input order. */
export async function recognise(
  session: InferenceSession,
  crops: LineCrop[],
  alphabet: readonly string[],
  batchSize = 8,
): Promise<Recognised[]> {
  const order = crops.map((_, i) => i).sort((a, b) => (crops[a] as LineCrop).width - (crops[b] as LineCrop).width);
  const results: Recognised[] = new Array(crops.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const ids = order.slice(start, start + batchSize);
    const batch = ids.map((i) => crops[i] as LineCrop);
    const width = Math.max(...batch.map((c) => c.width));
    const out = await session.run({ [session.inputNames[0] as string]: batchTensor(batch, REC_HEIGHT, width) });
    const tensor = out[session.outputNames[0] as string];
    const [, steps, classes] = tensor?.dims as readonly number[] as [number, number, number];
    const data = tensor?.data as Float32Array;
    ids.forEach((id, k) => (results[id] = ctcDecode(data, steps, classes, k * steps * classes, alphabet)));
  }
  return results;
}
