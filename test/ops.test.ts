import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Rng } from '../src/data/rng.js';
import type { Backend } from '../src/engine/backend.js';
import { WasmBackend } from '../src/engine/wasm/backend.js';
import { WebGpuBackend } from '../src/engine/webgpu/backend.js';
import { requestGpuAdapter } from '../src/engine/webgpu/device.js';
import { SHADERS } from '../src/engine/webgpu/kernels.js';
import { fmaTitle, fmaUnavailable } from './support/fma.js';
import { ntkColumns, tensorSize, type Layer, type LayerKind, type Network, type ParamSpec, type TensorShape } from '../src/graph/ir.js';

// Every layer kind, forward and backward (input and weight gradients), on both backends, on tiny
// shapes, against a float64 reference: the reference forward below, and its gradients by central
// finite differences of that forward (exact to ~1e-9 in float64 at inputs away from ReLU/max kinks).

const shape = (channels: number, height: number, width: number): TensorShape => ({ channels, height, width });
const param = (name: string, dims: number[], role: ParamSpec['role']): ParamSpec => ({ name, shape: dims, role, size: dims.reduce((a, b) => a * b, 1) });

// The scalar conv path and the forward pools take samples (or planes) four at a time, then the rest one by one.
const BATCH = 5;

interface OpCase {
  readonly name: string;
  readonly kind: LayerKind;
  readonly network: Network;
  /** Samples (BATCH unless a kernel path needs another count). */
  readonly batch: number;
}

function opCase(name: string, input: TensorShape, layers: Layer[], params: ParamSpec[] = [], batch = BATCH): OpCase {
  const all: Layer[] = [{ kind: 'input', shape: input }, ...layers];
  const last = all[all.length - 1];
  return { name, kind: last.kind, network: { label: `op/${name}`, layers: all, params, input, classes: tensorSize(last.shape) }, batch };
}

const conv = (out: TensorShape, kernel: number, stride: number, padding: number, dilation: number, groups: number): Layer => ({
  kind: 'conv', input: 0, weight: 0, kernel, stride, padding, dilation, groups, shape: out,
});
const convWeight = (out: number, inPerGroup: number, kernel: number) => param('op.weight', [out, inPerGroup, kernel, kernel], 'conv');

const CASES: OpCase[] = [
  opCase('conv 3×3 stride 1 (vector rows)', shape(2, 4, 8), [conv(shape(3, 4, 8), 3, 1, 1, 1, 1)], [convWeight(3, 2, 3)]),
  opCase('conv 3×3 stride 1, Winograd (four channels and more a side, rows a multiple of 8; odd counts leave a channel out of every pair)', shape(5, 8, 8), [conv(shape(7, 8, 8), 3, 1, 1, 1, 1)], [convWeight(7, 5, 3)]),
  opCase('conv 3×3 stride 2 (polyphase)', shape(2, 8, 8), [conv(shape(4, 4, 4), 3, 2, 1, 1, 1)], [convWeight(4, 2, 3)]),
  opCase('conv 3×3 stride 2, six outputs (polyphase, weight gradient three outputs at a time)', shape(2, 8, 8), [conv(shape(6, 4, 4), 3, 2, 1, 1, 1)], [convWeight(6, 2, 3)]),
  opCase('conv 3×3 stride 2, dilation 2 (polyphase, taps of either parity)', shape(2, 8, 8), [conv(shape(4, 4, 4), 3, 2, 2, 2, 1)], [convWeight(4, 2, 3)]),
  opCase('conv depthwise 3×3 stride 2 (polyphase)', shape(4, 8, 8), [conv(shape(4, 4, 4), 3, 2, 1, 1, 4)], [convWeight(4, 1, 3)]),
  opCase('conv dilated, grouped (scalar path)', shape(4, 5, 5), [conv(shape(4, 5, 5), 3, 1, 2, 2, 2)], [convWeight(4, 2, 3)]),
  opCase('conv 1×1 with a shifted tap', shape(2, 6, 6), [conv(shape(2, 3, 3), 1, 2, -1, 1, 1)], [convWeight(2, 2, 1)]),
  opCase('conv 1×1, five outputs (scalar path: four at a time, then by samples)', shape(3, 3, 3), [conv(shape(5, 3, 3), 1, 1, 0, 1, 1)], [convWeight(5, 3, 1)]),
  // With a multiple of four samples, a 1×1 conv of few channels runs along the pixels instead.
  opCase('conv 1×1, two channels of 2×2, eight samples (pixel vectors)', shape(2, 2, 2), [conv(shape(2, 2, 2), 1, 1, 0, 1, 1)], [convWeight(2, 2, 1)], 8),
  opCase('conv 1×1, one channel of 3×3, four samples (the batch as one plane)', shape(1, 3, 3), [conv(shape(1, 3, 3), 1, 1, 0, 1, 1)], [convWeight(1, 1, 1)], 4),
  opCase('conv 3×3 stride 2, four outputs (scalar path)', shape(2, 5, 5), [conv(shape(4, 3, 3), 3, 2, 1, 1, 1)], [convWeight(4, 2, 3)]),
  opCase('conv depthwise 3×3 (scalar path: four channels at a time)', shape(4, 3, 3), [conv(shape(4, 3, 3), 3, 1, 1, 1, 4)], [convWeight(4, 1, 3)]),
  opCase('batchnorm', shape(3, 4, 4), [{ kind: 'batchnorm', input: 0, gamma: 0, beta: 1, shape: shape(3, 4, 4) }], [param('bn.weight', [3], 'bn-weight'), param('bn.bias', [3], 'bn-bias')]),
  // Planes of 9 values: the sums' scalar tails.
  opCase('batchnorm 3×3 planes', shape(2, 3, 3), [{ kind: 'batchnorm', input: 0, gamma: 0, beta: 1, shape: shape(2, 3, 3) }], [param('bn.weight', [2], 'bn-weight'), param('bn.bias', [2], 'bn-bias')]),
  opCase('relu', shape(2, 3, 3), [{ kind: 'relu', input: 0, shape: shape(2, 3, 3) }]),
  opCase('avgpool 3×3 stride 1 (vector rows)', shape(2, 4, 8), [{ kind: 'avgpool', input: 0, kernel: 3, stride: 1, padding: 1, shape: shape(2, 4, 8) }]),
  opCase('avgpool 3×3 stride 2', shape(2, 5, 5), [{ kind: 'avgpool', input: 0, kernel: 3, stride: 2, padding: 1, shape: shape(2, 3, 3) }]),
  opCase('avgpool 2×2 stride 2 (vector rows, as in NB201\'s residual shortcut)', shape(2, 4, 16), [{ kind: 'avgpool', input: 0, kernel: 2, stride: 2, padding: 0, shape: shape(2, 2, 8) }]),
  // The second pool's gradient adds to the first's.
  opCase('avgpool 2×2 stride 2 twice on one input', shape(2, 4, 8), [
    { kind: 'avgpool', input: 0, kernel: 2, stride: 2, padding: 0, shape: shape(2, 2, 4) },
    { kind: 'avgpool', input: 0, kernel: 2, stride: 2, padding: 0, shape: shape(2, 2, 4) },
    { kind: 'sum', terms: [{ input: 1, scale: 0.5 }, { input: 2, scale: -1.25 }], shape: shape(2, 2, 4) },
  ]),
  opCase('maxpool 3×3 stride 2', shape(2, 5, 5), [{ kind: 'maxpool', input: 0, kernel: 3, stride: 2, padding: 1, shape: shape(2, 3, 3) }]),
  opCase('sum', shape(2, 3, 3), [
    { kind: 'relu', input: 0, shape: shape(2, 3, 3) },
    { kind: 'sum', terms: [{ input: 0, scale: 0.5 }, { input: 1, scale: -1.25 }], shape: shape(2, 3, 3) },
  ]),
  opCase('zero', shape(2, 3, 3), [{ kind: 'zero', input: 0, shape: shape(2, 3, 3) }]),
  opCase('concat', shape(2, 3, 3), [
    { kind: 'relu', input: 0, shape: shape(2, 3, 3) },
    { kind: 'concat', inputs: [1, 0], shape: shape(4, 3, 3) },
  ]),
  opCase('gap', shape(3, 4, 4), [{ kind: 'gap', input: 0, shape: shape(3, 1, 1) }]),
  opCase('linear', shape(3, 2, 2), [{ kind: 'linear', input: 0, weight: 0, bias: 1, shape: shape(5, 1, 1) }], [param('fc.weight', [5, 12], 'linear-weight'), param('fc.bias', [5], 'linear-bias')]),
];

/** The float64 reference: every layer's output for a batch (NCHW); `offset` is added to one layer's output. */
function referenceForward(network: Network, weights: Float64Array[], input: Float64Array, batch: number, offset?: { layer: number; values: Float64Array }): Float64Array[] {
  const outputs: Float64Array[] = [];
  for (const layer of network.layers) {
    const { channels: C, height: H, width: W } = layer.shape;
    const out = new Float64Array(batch * C * H * W);
    const at = (n: number, c: number, y: number, x: number) => ((n * C + c) * H + y) * W + x;
    switch (layer.kind) {
      case 'input':
        out.set(input);
        break;
      case 'conv': {
        const x = outputs[layer.input];
        const { channels: Ci, height: Hi, width: Wi } = network.layers[layer.input].shape;
        const w = weights[layer.weight];
        const inPerGroup = Ci / layer.groups;
        const outPerGroup = C / layer.groups;
        for (let n = 0; n < batch; n++)
          for (let co = 0; co < C; co++)
            for (let oy = 0; oy < H; oy++)
              for (let ox = 0; ox < W; ox++) {
                let sum = 0;
                const group = Math.floor(co / outPerGroup);
                for (let ci = 0; ci < inPerGroup; ci++)
                  for (let ky = 0; ky < layer.kernel; ky++)
                    for (let kx = 0; kx < layer.kernel; kx++) {
                      const iy = oy * layer.stride - layer.padding + ky * layer.dilation;
                      const ix = ox * layer.stride - layer.padding + kx * layer.dilation;
                      if (iy < 0 || iy >= Hi || ix < 0 || ix >= Wi) continue;
                      sum += w[((co * inPerGroup + ci) * layer.kernel + ky) * layer.kernel + kx] * x[((n * Ci + group * inPerGroup + ci) * Hi + iy) * Wi + ix];
                    }
                out[at(n, co, oy, ox)] = sum;
              }
        break;
      }
      case 'batchnorm': {
        const x = outputs[layer.input];
        for (let c = 0; c < C; c++) {
          let mean = 0;
          let variance = 0;
          const count = batch * H * W;
          for (let n = 0; n < batch; n++) for (let i = 0; i < H * W; i++) mean += x[(n * C + c) * H * W + i] / count;
          for (let n = 0; n < batch; n++) for (let i = 0; i < H * W; i++) variance += (x[(n * C + c) * H * W + i] - mean) ** 2 / count;
          for (let n = 0; n < batch; n++)
            for (let i = 0; i < H * W; i++) {
              const k = (n * C + c) * H * W + i;
              out[k] = (weights[layer.gamma][c] * (x[k] - mean)) / Math.sqrt(variance + 1e-5) + weights[layer.beta][c];
            }
        }
        break;
      }
      case 'relu':
        outputs[layer.input].forEach((v, i) => (out[i] = Math.max(0, v)));
        break;
      case 'avgpool':
      case 'maxpool': {
        const x = outputs[layer.input];
        const { height: Hi, width: Wi } = network.layers[layer.input].shape;
        for (let n = 0; n < batch; n++)
          for (let c = 0; c < C; c++)
            for (let oy = 0; oy < H; oy++)
              for (let ox = 0; ox < W; ox++) {
                const values: number[] = [];
                for (let ky = 0; ky < layer.kernel; ky++)
                  for (let kx = 0; kx < layer.kernel; kx++) {
                    const iy = oy * layer.stride - layer.padding + ky;
                    const ix = ox * layer.stride - layer.padding + kx;
                    if (iy >= 0 && iy < Hi && ix >= 0 && ix < Wi) values.push(x[((n * C + c) * Hi + iy) * Wi + ix]);
                  }
                out[at(n, c, oy, ox)] = layer.kind === 'maxpool' ? Math.max(...values) : values.reduce((a, b) => a + b, 0) / values.length;
              }
        break;
      }
      case 'sum':
        for (const term of layer.terms) outputs[term.input].forEach((v, i) => (out[i] += term.scale * v));
        break;
      case 'zero':
        break;
      case 'concat': {
        let offset = 0;
        for (const id of layer.inputs) {
          const part = tensorSize(network.layers[id].shape);
          for (let n = 0; n < batch; n++) out.set(outputs[id].subarray(n * part, (n + 1) * part), n * C * H * W + offset);
          offset += part;
        }
        break;
      }
      case 'gap': {
        const x = outputs[layer.input];
        const plane = tensorSize(network.layers[layer.input].shape) / C;
        for (let k = 0; k < batch * C; k++) for (let i = 0; i < plane; i++) out[k] += x[k * plane + i] / plane;
        break;
      }
      case 'linear': {
        const x = outputs[layer.input];
        const inFeatures = tensorSize(network.layers[layer.input].shape);
        for (let n = 0; n < batch; n++)
          for (let o = 0; o < C; o++) {
            let sum = weights[layer.bias][o];
            for (let i = 0; i < inFeatures; i++) sum += weights[layer.weight][o * inFeatures + i] * x[n * inFeatures + i];
            out[n * C + o] = sum;
          }
        break;
      }
    }
    if (offset?.layer === outputs.length) offset.values.forEach((v, i) => (out[i] += v));
    outputs.push(out);
  }
  return outputs;
}

/** ∂⟨cotangent, output⟩/∂values by central differences of the float64 reference. */
function finiteDifferences(values: Float64Array, loss: () => number): Float64Array {
  const step = 1e-6;
  return values.map((value, i) => {
    values[i] = value + step;
    const up = loss();
    values[i] = value - step;
    const down = loss();
    values[i] = value;
    return (up - down) / (2 * step);
  });
}

interface Problem {
  weights: Float32Array[];
  input: Float32Array;
  cotangents: Float32Array;
  batch: number;
}

const COTANGENTS = 2;

function problem(network: Network, seed: number, batch = BATCH): Problem {
  const rng = Rng.stream(seed, 'ops-test');
  const values = (length: number) => Float32Array.from({ length }, () => rng.normal());
  const weights = network.params.map((spec) => (spec.role === 'bn-weight' ? Float32Array.from({ length: spec.size }, () => 0.5 + rng.uniform()) : values(spec.size)));
  return { weights, input: values(batch * tensorSize(network.input)), cotangents: values(COTANGENTS * batch * network.classes), batch };
}

/** The reference output, input gradients and weight-gradient rows (over the gradient columns) for every cotangent. */
function reference(network: Network, { weights, input, cotangents, batch }: Problem) {
  const w64 = weights.map((w) => Float64Array.from(w));
  const x64 = Float64Array.from(input);
  const last = network.layers.length - 1;
  const output = referenceForward(network, w64, x64, batch)[last];
  const outputFloats = output.length;
  const { columns, dimension } = ntkColumns(network);
  const inputGradients: number[] = [];
  const rows: number[] = [];
  for (let k = 0; k < COTANGENTS; k++) {
    const cotangent = cotangents.subarray(k * outputFloats, (k + 1) * outputFloats);
    const loss = () => referenceForward(network, w64, x64, batch)[last].reduce((sum, v, i) => sum + v * cotangent[i], 0);
    inputGradients.push(...finiteDifferences(x64, loss));
    const row = new Float64Array(dimension);
    for (const column of columns) row.set(finiteDifferences(w64[column.param], loss), column.offset);
    rows.push(...row);
  }
  return { output, inputGradients: Float64Array.from(inputGradients), rows: Float64Array.from(rows), dimension };
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, relative: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const scale = Array.from(want).reduce((most, v) => Math.max(most, Math.abs(v)), 0);
  const worst = Array.from(want).reduce((most, v, i) => Math.max(most, Math.abs(got[i] - v)), 0);
  expect(worst, `${what}: max |error| against max |value| ${scale}`).toBeLessThanOrEqual(relative * scale + 1e-6);
}

async function checkOp(backend: Backend, op: OpCase, seed: number): Promise<void> {
  const { network, batch } = op;
  const data = problem(network, seed, batch);
  const want = reference(network, data);
  const last = network.layers.length - 1;
  const forward = await backend.forward({ network, weights: data.weights, inputs: [data.input], batch, capture: { layers: [last], as: 'values' } });
  expectClose(forward.logits[0], want.output, 1e-5, `${op.name} forward`);
  expectClose(forward.activations![0][0], want.output, 1e-5, `${op.name} captured output`);
  const vjp = await backend.vjp({
    network,
    weights: data.weights,
    input: data.input,
    batch,
    cotangents: { kind: 'given', data: data.cotangents, count: COTANGENTS },
    reduce: 'rows',
    inputGradient: true,
  });
  expectClose(vjp.logits, want.output, 1e-5, `${op.name} vjp logits`);
  expect(vjp.gradients.columns).toBe(want.dimension);
  expectClose(vjp.inputGradients!, want.inputGradients, 1e-4, `${op.name} input gradient`);
  expectClose(vjp.gradients.data, want.rows, 1e-4, `${op.name} weight gradient`);
}

// A small graph with every backward fusion of the WebAssembly executor: a ReLU folded into its
// conv; a conv forming its BN's input gradient; BNs and a 3×3 pool read through their sum's
// gradient, the two BNs finding their coefficients in one pass, the pool adding the identity term
// beside it to what a later sum wrote, and a second pool, of another input, sharing the box sums of
// that gradient with the first; and a conv that feeds only a zero. Capturing every layer's gradient
// turns the fusions off, so the two runs below also show that they change no bit. (The BNs' and
// pools' term scales are powers of two: a BN read through its sum folds the scale into its
// coefficients, and a pool read through its sum scales its box sums, which round as scaling dy first
// only then.)
function fusedGraph(name: string, plane: TensorShape): OpCase {
  const c = plane.channels;
  return opCase(name, plane, [
    { kind: 'relu', input: 0, shape: plane },
    conv(plane, 3, 1, 1, 1, 1),
    { kind: 'batchnorm', input: 2, gamma: 1, beta: 2, shape: plane },
    { kind: 'relu', input: 0, shape: plane },
    { kind: 'conv', input: 4, weight: 6, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1, shape: plane },
    { kind: 'batchnorm', input: 5, gamma: 7, beta: 8, shape: plane },
    { kind: 'avgpool', input: 0, kernel: 3, stride: 1, padding: 1, shape: plane },
    { kind: 'conv', input: 0, weight: 3, kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1, shape: plane },
    { kind: 'zero', input: 8, shape: plane },
    { kind: 'relu', input: 0, shape: plane },
    { kind: 'avgpool', input: 10, kernel: 3, stride: 1, padding: 1, shape: plane },
    { kind: 'sum', terms: [{ input: 3, scale: 0.5 }, { input: 6, scale: 0.25 }, { input: 7, scale: 1 }, { input: 9, scale: 1 }, { input: 0, scale: 0.3 }, { input: 11, scale: 0.5 }], shape: plane },
    { kind: 'sum', terms: [{ input: 12, scale: 1 }, { input: 0, scale: 0.7 }], shape: plane },
    { kind: 'gap', input: 13, shape: shape(c, 1, 1) },
    { kind: 'linear', input: 14, weight: 4, bias: 5, shape: shape(3, 1, 1) },
  ], [
    convWeight(c, c, 3), param('bn.weight', [c], 'bn-weight'), param('bn.bias', [c], 'bn-bias'), param('skip.weight', [c, c, 1, 1], 'conv'),
    param('fc.weight', [3, c], 'linear-weight'), param('fc.bias', [3], 'linear-bias'),
    param('pointwise.weight', [c, c, 1, 1], 'conv'), param('pointwise_bn.weight', [c], 'bn-weight'), param('pointwise_bn.bias', [c], 'bn-bias'),
  ]);
}
const FUSED = fusedGraph('fused graph', shape(2, 4, 8));
// The same graph where the 3×3 conv's backward runs in the Winograd domain (fused with its BN or not).
const FUSED_WINOGRAD = fusedGraph('fused graph, Winograd-sized', shape(4, 8, 8));

/** Each layer's output gradient of ⟨cotangent k, output⟩ (all k in turn), by central differences of an offset on that layer. */
function referenceLayerGradients(network: Network, { weights, input, cotangents }: Problem, layers: readonly number[]): Float64Array[] {
  const w64 = weights.map((w) => Float64Array.from(w));
  const x64 = Float64Array.from(input);
  const last = network.layers.length - 1;
  const outputFloats = BATCH * tensorSize(network.layers[last].shape);
  return layers.map((layer) => {
    const values = new Float64Array(BATCH * tensorSize(network.layers[layer].shape));
    const perCotangent = Array.from({ length: COTANGENTS }, (_, k) => {
      const cotangent = cotangents.subarray(k * outputFloats, (k + 1) * outputFloats);
      return finiteDifferences(values, () => referenceForward(network, w64, x64, BATCH, { layer, values })[last].reduce((sum, v, i) => sum + v * cotangent[i], 0));
    });
    return Float64Array.from(perCotangent.flatMap((row) => Array.from(row)));
  });
}

async function checkCapturedGradients(backend: Backend): Promise<void> {
  const { network } = FUSED;
  const data = problem(network, 40);
  const layers = network.layers.map((_, id) => id);
  const want = referenceLayerGradients(network, data, layers);
  const vjp = await backend.vjp({
    network,
    weights: data.weights,
    input: data.input,
    batch: BATCH,
    cotangents: { kind: 'given', data: data.cotangents, count: COTANGENTS },
    reduce: 'param-sums',
    captureGradients: layers,
  });
  expect(vjp.layerGradients).toHaveLength(layers.length);
  layers.forEach((id) => expectClose(vjp.layerGradients![id], want[id], 1e-4, `layer ${id} (${network.layers[id].kind}) output gradient`));
  expect(vjp.layerGradients![8].every((v) => v === 0), 'a conv that feeds only a zero gets no gradient').toBe(true);
  expect(Array.from(vjp.layerGradients![network.layers.length - 1])).toEqual(Array.from(data.cotangents));
  const plain = await backend.vjp({ network, weights: data.weights, input: data.input, batch: BATCH, cotangents: { kind: 'given', data: data.cotangents, count: COTANGENTS }, reduce: 'param-sums' });
  expect(plain.layerGradients).toBeUndefined();
  expect(Array.from(plain.gradients.data)).toEqual(Array.from(vjp.gradients.data));
}

/** Gradient rows and input gradients with every fusion on and with every fusion off (all layers captured) agree to the bit. */
async function checkFusionsChangeNoBit(backend: Backend, op: OpCase): Promise<void> {
  const { network } = op;
  const data = problem(network, 41);
  const run = (captureGradients?: number[]) => backend.vjp({ network, weights: data.weights, input: data.input, batch: BATCH, cotangents: { kind: 'given', data: data.cotangents, count: COTANGENTS }, reduce: 'rows', inputGradient: true, captureGradients });
  const fused = await run();
  const unfused = await run(network.layers.map((_, id) => id));
  expect(Array.from(fused.gradients.data)).toEqual(Array.from(unfused.gradients.data));
  expect(Array.from(fused.inputGradients!)).toEqual(Array.from(unfused.inputGradients!));
}

describe('the float64 reference', () => {
  it('has every layer kind among the cases', () => {
    const kinds = new Set<LayerKind>(['input', ...CASES.flatMap((c) => c.network.layers.map((layer) => layer.kind))]);
    expect([...kinds].sort()).toEqual(['avgpool', 'batchnorm', 'concat', 'conv', 'gap', 'input', 'linear', 'maxpool', 'relu', 'sum', 'zero']);
  });

  it('finite differences recover known gradients (linear map and BN invariance)', () => {
    const linear = CASES.find((c) => c.kind === 'linear')!;
    const data = problem(linear.network, 1);
    const want = reference(linear.network, data);
    // ⟨c, Wx + b⟩: ∂/∂W[o, i] = Σ_n c[n, o] x[n, i].
    const exact = new Float64Array(60);
    for (let o = 0; o < 5; o++) for (let i = 0; i < 12; i++) for (let n = 0; n < BATCH; n++) exact[o * 12 + i] += data.cotangents[n * 5 + o] * data.input[n * 12 + i];
    expectClose(want.rows.subarray(0, 60), exact, 1e-7, 'FD of the linear weight');
    // Train-mode BN output does not change when every input of a channel shifts: Σ over a channel's input gradient is 0.
    const bn = CASES.find((c) => c.kind === 'batchnorm')!;
    const grads = reference(bn.network, problem(bn.network, 2)).inputGradients.subarray(0, BATCH * 48);
    for (let c = 0; c < 3; c++) {
      let total = 0;
      for (let n = 0; n < BATCH; n++) for (let i = 0; i < 16; i++) total += grads[(n * 3 + c) * 16 + i];
      expect(Math.abs(total)).toBeLessThan(1e-6);
    }
  });
});

describe('every layer kind on WebAssembly', () => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = await WasmBackend.create();
  });
  CASES.forEach((op, index) => it(op.name, () => checkOp(backend, op, 10 + index)));
  it('captures the output gradient of any layer, through every backward fusion', () => checkCapturedGradients(backend));
  it('gives the same bits with and without its fusions where the 3×3 backward runs in the Winograd domain', () => checkFusionsChangeNoBit(backend, FUSED_WINOGRAD));

  it('reduces gradient rows to per-parameter sums and squared norms, and removes BN on request', async () => {
    const op = CASES.find((c) => c.kind === 'batchnorm')!;
    const data = problem(op.network, 3);
    const request = { network: op.network, weights: data.weights, input: data.input, batch: BATCH, cotangents: { kind: 'given', data: data.cotangents, count: COTANGENTS } } as const;
    const rows = (await backend.vjp({ ...request, reduce: 'rows' })).gradients;
    const sums = (await backend.vjp({ ...request, reduce: 'param-sums' })).gradients;
    const norms = (await backend.vjp({ ...request, reduce: 'param-square-norms' })).gradients;
    for (let k = 0; k < COTANGENTS; k++) {
      const row = Array.from(rows.data.subarray(k * 3, (k + 1) * 3));
      // The reductions are float32: within a few units in the last place of float32.
      const within = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want)));
      within(sums.data[k], row.reduce((a, b) => a + b, 0));
      within(norms.data[k], row.reduce((a, b) => a + b * b, 0));
    }
    const removed = await backend.forward({ network: op.network, weights: data.weights, inputs: [data.input], batch: BATCH, batchNorm: 'removed' });
    expect(removed.logits[0]).toEqual(data.input);
  });
});

describe.skipIf(fmaUnavailable)(fmaTitle('every layer kind on WebAssembly with fused multiply-add'), () => {
  let backend: WasmBackend;
  beforeAll(async () => {
    backend = await WasmBackend.create('wasm-fma');
  });
  CASES.forEach((op, index) => it(op.name, () => checkOp(backend, op, 10 + index)));
  it('captures the output gradient of any layer, through every backward fusion', () => checkCapturedGradients(backend));
  it('gives the same bits with and without its fusions where the 3×3 backward runs in the Winograd domain', () => checkFusionsChangeNoBit(backend, FUSED_WINOGRAD));
});

const adapter = await requestGpuAdapter();

describe.skipIf(!adapter)('every layer kind on WebGPU (skipped when no WebGPU adapter exists: apt-get install -y chromium libvulkan1)', () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = await WebGpuBackend.create({ maxChunk: 1 });
  });
  afterAll(() => backend?.dispose());
  CASES.forEach((op, index) => it(op.name, () => checkOp(backend, op, 10 + index)));
  it('captures the output gradient of any layer, one cotangent per chunk', () => checkCapturedGradients(backend));
});

describe('WebGPU shader parameters', () => {
  it('name the fields of each WGSL Params struct, in order', () => {
    for (const shader of Object.values(SHADERS)) {
      const struct = /struct Params \{([^}]*)\}/.exec(shader.source)![1];
      const fields = [...struct.matchAll(/(\w+)\s*:/g)].map((m) => m[1]);
      expect(fields, shader.name).toEqual([...shader.fields]);
    }
  });
});
