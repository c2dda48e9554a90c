import { readFileSync } from 'node:fs';
import type { OcrLine, OcrResult } from '@gpu-jobs/job-contract';
import { RunCancelledError } from '../errors';
import type { InferenceSession } from '../sessions';
import { DEFAULT_DETECTION, detectText, type DetectionOptions, type TextBox } from './detection';
import { cropResize, decodeImage } from './image';
import { CLS_WIDTH, REC_HEIGHT, recognise, rotate180, upsideDown, type LineCrop } from './recognition';

export interface OcrSessions {
  detection: InferenceSession;
  classifier?: InferenceSession;
  recognition: InferenceSession;
}

export interface RunHooks {
  onProgress?: (progress: { stage: string; done?: number; total?: number }) => void;
  /** Checked between stages; true stops the run with RunCancelledError. */
  shouldStop?: () => boolean;
}

/** PaddleOCR's dictionary file plus CTC's blank at index 0 and the space character at the end. */
export function loadAlphabet(dictionaryPath: string): string[] {
  const lines = readFileSync(dictionaryPath, 'utf8').split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return ['', ...lines, ' '];
}

/** Lines whose recognition confidence is below this are dropped (PaddleOCR's drop_score). */
const MIN_CONFIDENCE = 0.5;

/**
 * PP-OCR: detect text boxes (DB), turn upside-down lines (direction classifier), recognise each line
 * (SVTR + CTC). The caller owns the sessions, so the execution provider and threads are its choice.
 */
export class OcrPipeline {
  constructor(
    private readonly sessions: OcrSessions,
    private readonly alphabet: readonly string[],
    private readonly detection: DetectionOptions = DEFAULT_DETECTION,
  ) {}

  async run(imageBytes: Buffer, hooks: RunHooks = {}): Promise<OcrResult> {
    const stop = () => {
      if (hooks.shouldStop?.()) throw new RunCancelledError();
    };
    const image = await decodeImage(imageBytes);
    stop();
    const boxes = await detectText(this.sessions.detection, image, this.detection);
    hooks.onProgress?.({ stage: 'detection', done: boxes.length, total: boxes.length });
    stop();

    let crops = await Promise.all(boxes.map((b) => cropLine(image, b, REC_HEIGHT)));
    if (this.sessions.classifier && crops.length > 0) {
      const clsCrops = await Promise.all(boxes.map((b) => cropLine(image, b, REC_HEIGHT, CLS_WIDTH)));
      const flip = await upsideDown(this.sessions.classifier, clsCrops);
      crops = crops.map((c, i) => (flip[i] ? rotate180(c, REC_HEIGHT) : c));
      stop();
    }

    const lines: OcrLine[] = [];
    const batch = 8;
    for (let start = 0; start < crops.length; start += batch) {
      const texts = await recognise(this.sessions.recognition, crops.slice(start, start + batch), this.alphabet, batch);
      texts.forEach((r, k) => {
        const b = boxes[start + k] as TextBox;
        const text = r.text.trim();
        if (text && r.confidence >= MIN_CONFIDENCE) {
          lines.push({ text, confidence: round(r.confidence), box: corners(b) });
        }
      });
      hooks.onProgress?.({ stage: 'recognition', done: Math.min(start + batch, crops.length), total: crops.length });
      stop();
    }
    return { text: lines.map((l) => l.text).join('\n'), lines, width: image.width, height: image.height };
  }
}

async function cropLine(image: Parameters<typeof cropResize>[0], box: TextBox, height: number, maxWidth = 2_000): Promise<LineCrop> {
  const width = Math.max(8, Math.min(maxWidth, Math.round((box.width * height) / box.height)));
  return { rgb: await cropResize(image, box, width, height), width };
}

function corners(b: TextBox): [number, number][] {
  return [
    [b.left, b.top],
    [b.left + b.width, b.top],
    [b.left + b.width, b.top + b.height],
    [b.left, b.top + b.height],
  ];
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
