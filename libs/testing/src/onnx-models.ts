import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;

/** Wraps a graph in a model (opset 13) and writes it. */
function writeModel(path: string, graph: onnxProto.onnx.IGraphProto): void {
  const model = onnx.ModelProto.create({ irVersion: 8, producerName: 'gpu-jobs-test', opsetImport: [{ domain: '', version: 13 }], graph });
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
}

/** Writes y = x + [1, 2, 3] for x of shape [n, 3]: a tiny ONNX model built from the ONNX protobuf schema. */
export function writeAddBiasModel(path: string): void {
  const shape = { dim: [{ dimParam: 'n' }, { dimValue: 3 }] };
  writeModel(path, {
    name: 'add-bias',
    node: [{ opType: 'Add', input: ['x', 'bias'], output: ['y'], name: 'add' }],
    initializer: [{ name: 'bias', dataType: FLOAT, dims: [3], floatData: [1, 2, 3] }],
    input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: FLOAT, shape } } }],
  });
}

/** Writes y = x / [0, 0, 1] for x of shape [n, 3]: division by zero, so outputs hold infinities and NaN. */
export function writeDivideByZeroModel(path: string): void {
  const shape = { dim: [{ dimParam: 'n' }, { dimValue: 3 }] };
  writeModel(path, {
    name: 'divide-by-zero',
    node: [{ opType: 'Div', input: ['x', 'd'], output: ['y'], name: 'div' }],
    initializer: [{ name: 'd', dataType: FLOAT, dims: [3], floatData: [0, 0, 1] }],
    input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: FLOAT, shape } } }],
  });
}

/**
 * Writes a deliberately slow model: `layers` chained MatMuls of x [n, size] with one size x size weight
 * (the identity, with a tanh after each, so values stay finite), then a sum to y [n, 1]. About 2 * n * size^2 * layers
 * FLOPs: a stand-in for a long GPU inference that crash and drain tests can interrupt.
 */
export function writeSlowModel(path: string, size = 512, layers = 40): void {
  const identity = new Float32Array(size * size);
  for (let i = 0; i < size; i++) identity[i * size + i] = 1;
  // MatMul then Tanh per layer: the nonlinearity keeps the optimiser from folding the chain
  const nodes = Array.from({ length: layers }, (_, i) => [
    { opType: 'MatMul', input: [i === 0 ? 'x' : `h${i}`, 'w'], output: [`m${i + 1}`], name: `mm${i}` },
    { opType: 'Tanh', input: [`m${i + 1}`], output: [`h${i + 1}`], name: `tanh${i}` },
  ]).flat();
  nodes.push({ opType: 'ReduceSum', input: [`h${layers}`, 'axes'], output: ['y'], name: 'sum' });
  writeModel(path, {
    name: 'slow',
    node: nodes,
    initializer: [
      { name: 'w', dataType: FLOAT, dims: [size, size], rawData: new Uint8Array(identity.buffer) },
      { name: 'axes', dataType: onnx.TensorProto.DataType.INT64, dims: [1], int64Data: [1] },
    ],
    input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'n' }, { dimValue: size }] } } } }],
    output: [{ name: 'y', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'n' }, { dimValue: 1 }] } } } }],
  });
}
