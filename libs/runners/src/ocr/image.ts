import sharp from 'sharp';
import { PermanentInputError } from '../errors';

/** A decoded image: 8-bit RGB, row-major, no alpha. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

const MAX_PIXELS = 40_000_000;

/** Decodes a JPEG or PNG (any format sharp reads) to RGB; a corrupt or truncated file is a PermanentInputError. */
export async function decodeImage(bytes: Buffer): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'truncated' })
      .rotate() // honour EXIF orientation, as a phone photo of a page expects
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height };
  } catch (err) {
    const message = (err as Error).message ?? '';
    if (/pixel limit/i.test(message)) throw new PermanentInputError('image_too_large', `the image has more than ${MAX_PIXELS} pixels`);
    throw new PermanentInputError('image_unreadable', 'the input is not a readable JPEG or PNG image');
  }
}

/** Crops a box and resizes it to exactly width x height (RGB raw). */
export async function cropResize(
  image: RgbImage,
  box: { left: number; top: number; width: number; height: number },
  width: number,
  height: number,
): Promise<Buffer> {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(box)
    .resize({ width, height, fit: 'fill' })
    .raw()
    .toBuffer();
}

/**
 * Writes an RGB raw image into a CHW float tensor slot in BGR channel order (PaddleOCR models were
 * trained on OpenCV's BGR), as (pixel / 255 - mean[c]) / std[c]. `stride` is the tensor's row width,
 * which may be wider than the image (right padding stays 0).
 */
export function writeChwBgr(
  target: Float32Array,
  offset: number,
  rgb: Buffer,
  width: number,
  height: number,
  stride: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
): void {
  const plane = stride * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const o = offset + y * stride + x;
      target[o] = ((rgb[p + 2] as number) / 255 - mean[0]) / std[0];
      target[o + plane] = ((rgb[p + 1] as number) / 255 - mean[1]) / std[1];
      target[o + 2 * plane] = ((rgb[p] as number) / 255 - mean[2]) / std[2];
    }
  }
}
