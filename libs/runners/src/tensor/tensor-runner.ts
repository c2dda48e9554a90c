import type { NamedTensor, TensorDatatype, TensorInput, TensorOutput } from '@gpu-jobs/job-contract';
import { tensorSizeMatches } from '@gpu-jobs/job-contract';
import { PermanentInputError } from '../errors';
import { Tensor, type InferenceSession } from '../sessions';

type OrtType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'bool';

function toOrtTensor(t: NamedTensor): InstanceType<typeof Tensor> {
  const dims = t.shape;
  switch (t.datatype) {
    case 'float32':
      return new Tensor('float32', Float32Array.from(t.data as number[]), dims);
    case 'float64':
      return new Tensor('float64', Float64Array.from(t.data as number[]), dims);
    case 'int32':
      return new Tensor('int32', Int32Array.from(t.data as number[]), dims);
    case 'int64':
      return new Tensor('int64', BigInt64Array.from((t.data as number[]).map((v) => BigInt(Math.trunc(v)))), dims);
    case 'uint8':
      return new Tensor('uint8', Uint8Array.from(t.data as number[]), dims);
    case 'int8':
      return new Tensor('int8', Int8Array.from(t.data as number[]), dims);
    case 'bool':
      return new Tensor('bool', Uint8Array.from((t.data as (number | boolean)[]).map((v) => (v ? 1 : 0))), dims);
  }
}

function fromOrtTensor(name: string, t: InstanceType<typeof Tensor>): NamedTensor {
  const datatype = t.type as TensorDatatype;
  const data = Array.from(t.data as ArrayLike<number | bigint>, (v) =>
    typeof v === 'bigint' ? Number(v) : datatype === 'bool' ? Boolean(v) : v,
  );
  return { name, datatype, shape: [...t.dims], data: data as (number | boolean)[] };
}

interface InputSpec {
  name: string;
  type: string;
  shape: readonly (number | string)[];
}

/** The inputs a session declares, with fixed dimensions as numbers and dynamic ones as names. */
export function inputSpecs(session: InferenceSession): InputSpec[] {
  const meta =
    (session as unknown as { inputMetadata?: { name: string; isTensor: boolean; type?: string; shape?: (number | string)[] }[] })
      .inputMetadata ?? [];
  return meta.filter((m) => m.isTensor).map((m) => ({ name: m.name, type: m.type ?? 'unknown', shape: m.shape ?? [] }));
}

/** Checks the request against the model's declared inputs; any mismatch is a PermanentInputError (422). */
export function checkTensorInput(input: TensorInput, specs: InputSpec[]): void {
  const given = new Map(input.inputs.map((t) => [t.name, t]));
  for (const spec of specs) {
    const t = given.get(spec.name);
    if (!t) throw new PermanentInputError('tensor_mismatch', `input ${spec.name} is missing`);
    if (t.datatype !== (spec.type as OrtType))
      throw new PermanentInputError('tensor_mismatch', `input ${spec.name} must be ${spec.type}, got ${t.datatype}`);
    if (t.shape.length !== spec.shape.length)
      throw new PermanentInputError('tensor_mismatch', `input ${spec.name} must have rank ${spec.shape.length}, got ${t.shape.length}`);
    spec.shape.forEach((dim, i) => {
      if (typeof dim === 'number' && dim > 0 && t.shape[i] !== dim) {
        throw new PermanentInputError('tensor_mismatch', `input ${spec.name} dimension ${i} must be ${dim}, got ${t.shape[i]}`);
      }
    });
    if (!tensorSizeMatches(t))
      throw new PermanentInputError('tensor_mismatch', `input ${spec.name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
  }
  for (const name of given.keys()) {
    if (!specs.some((s) => s.name === name)) throw new PermanentInputError('tensor_mismatch', `the model has no input named ${name}`);
  }
}

/** Runs any ONNX model on named tensors (Open Inference Protocol v2 style). */
export class TensorRunner {
  private readonly specs: InputSpec[];
  constructor(private readonly session: InferenceSession) {
    this.specs = inputSpecs(session);
  }

  get inputs(): readonly InputSpec[] {
    return this.specs;
  }

  async run(input: TensorInput): Promise<TensorOutput> {
    checkTensorInput(input, this.specs);
    const feeds = Object.fromEntries(input.inputs.map((t) => [t.name, toOrtTensor(t)]));
    let out: Awaited<ReturnType<InferenceSession['run']>>;
    try {
      out = await this.session.run(feeds);
    } catch (err) {
      // ONNX Runtime refuses shapes the graph cannot take (e.g. spatial sizes its strides do not divide)
      throw new PermanentInputError('tensor_mismatch', `the model rejected the input: ${(err as Error).message.split('\n')[0]}`);
    }
    return { outputs: this.session.outputNames.map((name) => fromOrtTensor(name, out[name] as InstanceType<typeof Tensor>)) };
  }
}
