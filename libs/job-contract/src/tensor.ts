import Type from 'typebox';

export const TENSOR_DATATYPES = ['float32', 'float64', 'int32', 'int64', 'uint8', 'int8', 'bool'] as const;
export const TensorDatatype = Type.Enum(TENSOR_DATATYPES, { title: 'TensorDatatype' });
export type TensorDatatype = (typeof TENSOR_DATATYPES)[number];

/** A named tensor, row-major, in the shape of the KServe v2 protocol. */
export const NamedTensor = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    datatype: TensorDatatype,
    // dimensions are safe integers well below 2^31; the element count is checked against the data
    shape: Type.Array(Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), { maxItems: 8 }),
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

/** JSON has no NaN or infinities: an output's non-finite values are these strings (as Python's json writes them). */
export const NON_FINITE = ['NaN', 'Infinity', '-Infinity'] as const;

/** A named output tensor: as an input, with non-finite floats as "NaN", "Infinity" or "-Infinity". */
export const OutputTensor = Type.Object(
  {
    name: Type.String(),
    datatype: TensorDatatype,
    shape: Type.Array(Type.Integer({ minimum: 0 })),
    data: Type.Array(Type.Union([Type.Number(), Type.Boolean(), Type.Enum(NON_FINITE)])),
  },
  { title: 'OutputTensor' },
);
export type OutputTensor = Type.Static<typeof OutputTensor>;

export const TensorOutput = Type.Object({ outputs: Type.Array(OutputTensor) }, { title: 'TensorOutput' });
export type TensorOutput = Type.Static<typeof TensorOutput>;

/**
 * Why a request does not fit the declared inputs, or undefined when it does: every declared input
 * present with its datatype, rank and fixed dimensions, no undeclared input, and as many values as the
 * shape says.
 */
export function tensorMismatch(
  input: TensorInput,
  specs: readonly { name: string; datatype: string; shape: readonly (number | string)[] }[],
): string | undefined {
  const given = new Map(input.inputs.map((t) => [t.name, t]));
  for (const spec of specs) {
    const t = given.get(spec.name);
    if (!t) return `input ${spec.name} is missing`;
    if (t.datatype !== spec.datatype) return `input ${spec.name} must be ${spec.datatype}, got ${t.datatype}`;
    if (t.shape.length !== spec.shape.length) return `input ${spec.name} must have rank ${spec.shape.length}, got ${t.shape.length}`;
    for (let i = 0; i < spec.shape.length; i++) {
      const dim = spec.shape[i];
      if (typeof dim === 'number' && dim > 0 && t.shape[i] !== dim)
        return `input ${spec.name} dimension ${i} must be ${dim}, got ${t.shape[i]}`;
    }
    if (!tensorSizeMatches(t)) return `input ${spec.name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`;
  }
  for (const name of given.keys()) {
    if (!specs.some((s) => s.name === name)) return `the model has no input named ${name}`;
  }
  return undefined;
}

/** Whether `data` holds exactly as many elements as `shape` says. The schema cannot express this. */
export function tensorSizeMatches(t: NamedTensor): boolean {
  return t.shape.reduce((n, d) => n * d, 1) === t.data.length;
}
