import type { NamedTensor, OutputTensor, TensorDatatype, TensorInput, TensorOutput } from '@gpu-jobs/job-contract';
import { tensorMismatch, type TensorSpec } from '@gpu-jobs/job-contract';
import { PermanentInputError } from '../errors';
import { Tensor, type InferenceSession } from '../sessions';

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

/** JSON for a non-finite float (JSON.stringify would write null, and a "succeeded" result would hide it). */
function finiteOrName(v: number): number | OutputTensor['data'][number] {
  if (Number.isFinite(v)) return v;
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

function fromOrtTensor(name: string, t: InstanceType<typeof Tensor>): OutputTensor {
  const datatype = t.type as TensorDatatype;
  const data = Array.from(t.data as ArrayLike<number | bigint>, (v) =>
    typeof v === 'bigint' ? Number(v) : datatype === 'bool' ? Boolean(v) : finiteOrName(v),
  );
  return { name, datatype, shape: [...t.dims], data };
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

/** Checks the request against the model's inputs; any mismatch is a PermanentInputError. */
export function checkTensorInput(input: TensorInput, specs: InputSpec[]): void {
  const why = tensorMismatch(
    input,
    specs.map((s) => ({ name: s.name, datatype: s.type, shape: s.shape })),
  );
  if (why) throw new PermanentInputError('tensor_mismatch', why);
}

/**
 * Compares the registry's declared inputs with the model file's: a worker refuses to start on a
 * registry entry that does not describe its model, rather than fail every job.
 */
export function declaredInputsMismatch(declared: readonly TensorSpec[], actual: readonly InputSpec[]): string | undefined {
  if (declared.length !== actual.length) return `the registry declares ${declared.length} inputs, the model has ${actual.length}`;
  for (const d of declared) {
    const a = actual.find((x) => x.name === d.name);
    if (!a) return `the model has no input named ${d.name}`;
    if (a.type !== d.datatype) return `input ${d.name}: the registry says ${d.datatype}, the model ${a.type}`;
    if (a.shape.length !== d.shape.length) return `input ${d.name}: the registry says rank ${d.shape.length}, the model ${a.shape.length}`;
    for (let i = 0; i < d.shape.length; i++) {
      const want = d.shape[i];
      const have = a.shape[i];
      if (typeof have === 'number' && have > 0 && want !== have) return `input ${d.name} dimension ${i}: the model fixes it at ${have}`;
    }
  }
  return undefined;
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
