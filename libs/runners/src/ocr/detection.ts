import sharp from 'sharp';
import { Tensor, type InferenceSession } from '../sessions';
import { writeChwBgr, type RgbImage } from './image';

/** An axis-aligned text box in original image pixels. */
export interface TextBox {
  left: number;
  top: number;
  width: number;
  height: number;
  score: number;
}

export interface DetectionOptions {
  /** Longest side fed to the model (PaddleOCR's det_limit_side_len). */
  maxSide: number;
  /** Probability above which a pixel is text. */
  binaryThreshold: number;
  /** Mean probability a region needs to count as text. */
  boxThreshold: number;
  /** How far a shrunk text region is grown back (PaddleOCR's unclip_ratio). */
  unclipRatio: number;
}

export const DEFAULT_DETECTION: DetectionOptions = { maxSide: 960, binaryThreshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5 };

const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** Both sides a multiple of 32 (the DB network's stride), the longest at most maxSide. */
export function detectionSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const ratio = Math.max(width, height) > maxSide ? maxSide / Math.max(width, height) : 1;
  const round = (v: number) => Math.max(32, Math.round((v * ratio) / 32) * 32);
  return { width: round(width), height: round(height) };
}

/** Runs the DB text detector and returns text boxes in reading order. */
export async function detectText(
  session: InferenceSession,
  image: RgbImage,
  options: DetectionOptions = DEFAULT_DETECTION,
): Promise<TextBox[]> {
  const size = detectionSize(image.width, image.height, options.maxSide);
  const resized = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize({ width: size.width, height: size.height, fit: 'fill' })
    .raw()
    .toBuffer();
  const input = new Float32Array(3 * size.width * size.height);
  writeChwBgr(input, 0, resized, size.width, size.height, size.width, MEAN, STD);
  const inputName = session.inputNames[0] as string;
  const outputs = await session.run({ [inputName]: new Tensor('float32', input, [1, 3, size.height, size.width]) });
  const map = outputs[session.outputNames[0] as string]?.data as Float32Array;
  const boxes = boxesFromProbabilityMap(map, size.width, size.height, options);
  const sx = image.width / size.width;
  const sy = image.height / size.height;
  return sortReadingOrder(
    boxes
      .map((b) => clampBox({ left: b.left * sx, top: b.top * sy, width: b.width * sx, height: b.height * sy, score: b.score }, image))
      .filter((b) => b.width >= 4 && b.height >= 4),
  );
}

/**
 * DB post-processing: threshold the probability map, label connected regions (8-connectivity), keep the
 * confident ones and grow each back by area * unclipRatio / perimeter, as PaddleOCR does for polygons.
 */
export function boxesFromProbabilityMap(map: Float32Array, width: number, height: number, options: DetectionOptions): TextBox[] {
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const boxes: TextBox[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || (map[start] as number) <= options.binaryThreshold) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let minX = width,
      minY = height,
      maxX = 0,
      maxY = 0,
      sum = 0,
      count = 0;
    while (top > 0) {
      const p = stack[--top] as number;
      const x = p % width;
      const y = (p - x) / width;
      sum += map[p] as number;
      count += 1;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (!seen[q] && (map[q] as number) > options.binaryThreshold) {
            seen[q] = 1;
            stack[top++] = q;
          }
        }
      }
    }
    const w = maxX - minX + 1;
    const h = maxY - minY + 1;
    if (Math.min(w, h) < 3 || sum / count < options.boxThreshold) continue;
    const grow = (w * h * options.unclipRatio) / (2 * (w + h));
    boxes.push({ left: minX - grow, top: minY - grow, width: w + 2 * grow, height: h + 2 * grow, score: sum / count });
  }
  return boxes;
}

function clampBox(b: TextBox, image: { width: number; height: number }): TextBox {
  const left = Math.max(0, Math.floor(b.left));
  const top = Math.max(0, Math.floor(b.top));
  const right = Math.min(image.width, Math.ceil(b.left + b.width));
  const bottom = Math.min(image.height, Math.ceil(b.top + b.height));
  return { left, top, width: right - left, height: bottom - top, score: b.score };
}

/** Top to bottom; boxes on the same line (vertical centres within half a line) left to right. */
export function sortReadingOrder(boxes: TextBox[]): TextBox[] {
  const byTop = [...boxes].sort((a, b) => a.top - b.top);
  const lines: TextBox[][] = [];
  for (const box of byTop) {
    const centre = box.top + box.height / 2;
    const line = lines.find((l) => {
      const ref = l[0] as TextBox;
      return Math.abs(ref.top + ref.height / 2 - centre) < Math.min(ref.height, box.height) / 2;
    });
    if (line) line.push(box);
    else lines.push([box]);
  }
  return lines.flatMap((l) => l.sort((a, b) => a.left - b.left));
}
