import Type from 'typebox';

export const TENSOR_DATATYPES = ['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const;
export const TensorDatatype = Type.Enum(TENSOR_DATATYPES, { title: 'TensorDatatype' });
export type TensorDatatype = (typeof TENSOR_DATATYPES)[number];

/** A named tensor, row-major, in the shape of the KServe v2 protocol. */
export const NamedTensor = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    datatype: TensorDatatype,
    shape: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 8 }),
    data: Type.Array(Type.Union([Type.Number(), Type.Boolean()])),
  },
  { title: 'NamedTensor', additionalProperties: false },
);
export type NamedTensor = Type.Static<typeof NamedTensor>;

export const TensorInput = Type.Object(
  { inputs: Type.Array(NamedTensor, { minItems: 1, maxItems: 16 }) },
  { title: 'TensorInput', additionalProperties: false },
);
export type TensorInput = Type.Static<typeof TensorInput>;

export const TensorOutput = Type.Object({ outputs: Type.Array(NamedTensor) }, { title: 'TensorOutput' });
export type TensorOutput = Type.Static<typeof TensorOutput>;

/** Whether `data` holds exactly as many elements as `shape` says. The schema cannot express this. */
export function tensorSizeMatches(t: NamedTensor): boolean {
  return t.shape.reduce((n, d) => n * d, 1) === t.data.length;
}
