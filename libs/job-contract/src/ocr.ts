import Type from 'typebox';

const Point = Type.Tuple([Type.Number(), Type.Number()]);

export const OcrLine = Type.Object(
  {
    text: Type.String(),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    box: Type.Array(Point, { minItems: 4, maxItems: 4, description: 'corners in image pixels, clockwise from top-left' }),
  },
  { title: 'OcrLine' },
);
export type OcrLine = Type.Static<typeof OcrLine>;

/** The result of an OCR job: the page's text in reading order, and each line with where it was found. */
export const OcrResult = Type.Object(
  {
    text: Type.String(),
    lines: Type.Array(OcrLine),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
  },
  { title: 'OcrResult' },
);
export type OcrResult = Type.Static<typeof OcrResult>;

export const ImageInput = Type.Object(
  { image: Type.String({ minLength: 1, contentEncoding: 'base64', description: 'base64 JPEG or PNG' }) },
  { title: 'ImageInput', additionalProperties: false },
);
export type ImageInput = Type.Static<typeof ImageInput>;

export const TextInput = Type.Object({ text: Type.String({ minLength: 1 }) }, { title: 'TextInput', additionalProperties: false });
export type TextInput = Type.Static<typeof TextInput>;
