import { layerInputs, tensorSize, type Layer, type LayerId, type Network, type ParamId } from '../../graph/ir.js';
import type { Weights } from '../../graph/weights.js';
import { WasmKernels } from '../wasm/module.js';
import { convForward, convGeometry, convInputGradient, convWeightGradient } from './conv.js';
import {
  avgPool,
  axpy,
  batchNormForward,
  batchNormInputGradientTangent,
  channelSums,
  gated,
  gatherAt,
  invStdTangent,
  linearForward,
  linearInputGradient,
  linearWeightGradient,
  maxPool,
  normalisedJacobian,
  type NormGeometry,
  type PoolGeometry,
} from './kernels.js';

/**
 * A float64 executor of the network IR on the host: forward, reverse (gradients) and forward-mode
 * tangents of both (Pearlmutter's R-operator: the tangent of the reverse pass along a direction v
 * of the parameters gives the Hessian-vector product Hv exactly, up to rounding).
 *
 * Why a host executor besides the WebAssembly and WebGPU backends (which stay float32): some
 * proxies need what float32 kernels cannot give. synflow's value reaches ~1e42 at C = 16, N = 5,
 * beyond float32's range; GraSP needs a Hessian-vector product whose terms cancel to 0.1–1 % of
 * their magnitude, which finite differences cannot resolve. Both run here, whatever the backend.
 */

/** Tensors that may be absent: identically zero (an untouched tangent or gradient), or a dropped output. */
export type Sparse = (Float64Array | undefined)[];

interface BatchNormState {
  readonly xhat: Float64Array;
  readonly invStd: Float64Array;
}

let sharedKernels: Promise<WasmKernels> | undefined;

/** The WebAssembly kernels of the executor's convs: one instance per thread, created once. */
export function executorKernels(): Promise<WasmKernels> {
  sharedKernels ??= WasmKernels.create();
  return sharedKernels;
}

/**
 * A forward pass: the layer outputs (batch × layer size) that later passes read, and what the
 * reverse pass needs. Outputs nothing reads again are dropped (see `retention`).
 */
export interface Pass64 {
  readonly kernels: WasmKernels;
  readonly network: Network;
  readonly batch: number;
  readonly params: readonly Float64Array[];
  readonly outputs: Sparse;
  readonly batchNorms: readonly (BatchNormState | undefined)[];
  readonly argmax: readonly (Int32Array | undefined)[];
}

/** The tangent of a forward pass along a direction of the parameters. */
export interface Tangent64 {
  readonly params: Sparse;
  /** The tangents the reverse pass reads (of conv and linear inputs) and of the logits; absent: zero or dropped. */
  readonly outputs: Sparse;
  /** Per BN layer: the tangents of x̂ and of 1/σ. */
  readonly batchNorms: readonly ({ xhatDot: Float64Array; invStdDot: Float64Array } | undefined)[];
}

export interface Gradients64 {
  /** ∂⟨gy, output⟩/∂θ per parameter (absent: the parameter gets no gradient, or it was not asked for). */
  readonly params: Sparse;
  /** Their tangents along the `Tangent64` direction (Hv for a loss gradient). */
  readonly paramTangents?: Sparse;
}

export function float64Params(weights: Weights): Float64Array[] {
  return weights.map((values) => Float64Array.from(values));
}

const size = (network: Network, id: LayerId) => tensorSize(network.layers[id].shape);

function normGeometry(layer: Layer, batch: number): NormGeometry {
  return { batch, channels: layer.shape.channels, plane: layer.shape.height * layer.shape.width };
}

function poolGeometry(network: Network, layer: Extract<Layer, { kind: 'avgpool' | 'maxpool' }>, batch: number): PoolGeometry {
  const { kernel, stride, padding } = layer;
  return { planes: batch * layer.shape.channels, input: network.layers[layer.input].shape, output: layer.shape, kernel, stride, padding };
}

/** Adds the GAP of x (batch × C × plane) to y (batch × C), or with `transpose` its gradient to x. */
function globalAvgPool(x: Float64Array, y: Float64Array, plane: number, transpose: boolean): void {
  for (let k = 0; k < y.length; k++) {
    if (transpose) {
      const share = y[k] / plane;
      for (let i = k * plane, end = i + plane; i < end; i++) x[i] += share;
    } else {
      let acc = 0;
      for (let i = k * plane, end = i + plane; i < end; i++) acc += x[i];
      y[k] += acc / plane;
    }
  }
}

/** Copies each input's per-sample block into its channel range of y (or back, with `transpose`). */
function concatenate(network: Network, layer: Extract<Layer, { kind: 'concat' }>, batch: number, parts: Sparse, y: Float64Array, transpose: boolean): void {
  const total = tensorSize(layer.shape);
  let offset = 0;
  for (let k = 0; k < layer.inputs.length; k++) {
    const part = size(network, layer.inputs[k]);
    const x = parts[k];
    if (x) {
      for (let n = 0; n < batch; n++) {
        for (let i = 0; i < part; i++) {
          if (transpose) x[n * part + i] += y[n * total + offset + i];
          else y[n * total + offset + i] += x[n * part + i];
        }
      }
    }
    offset += part;
  }
}

/**
 * The linear part shared by the primal forward and its tangent: adds to y the layer's map applied to
 * its inputs `xs` (absent = zero). Conv and linear layers use the weight `w` (the bias is left to
 * the caller); BN and ReLU are not linear and are handled by their callers.
 */
function applyLinear(pass: { kernels: WasmKernels; network: Network; batch: number }, id: LayerId, xs: Sparse, w: Float64Array | undefined, y: Float64Array, argmax?: Int32Array): void {
  const { network, batch } = pass;
  const layer = network.layers[id];
  switch (layer.kind) {
    case 'conv':
      if (xs[0] && w) convForward(pass.kernels, convGeometry(layer, network.layers[layer.input].shape, batch), xs[0], w, y);
      return;
    case 'linear':
      if (xs[0] && w) linearForward(batch, size(network, layer.input), tensorSize(layer.shape), xs[0], w, y);
      return;
    case 'avgpool':
      if (xs[0]) avgPool(poolGeometry(network, layer, batch), xs[0], y, false);
      return;
    case 'maxpool':
      if (xs[0]) gatherAt(argmax!, xs[0], y, false);
      return;
    case 'sum':
      layer.terms.forEach((term, k) => xs[k] && axpy(term.scale, xs[k]!, y));
      return;
    case 'concat':
      concatenate(network, layer, batch, xs, y, false);
      return;
    case 'gap':
      if (xs[0]) globalAvgPool(xs[0], y, size(network, layer.input) / layer.shape.channels, false);
      return;
    case 'zero':
    case 'input':
    case 'relu':
    case 'batchnorm':
      return;
    default:
      unhandled(layer);
  }
}

/** A layer kind the executor does not know yet (adding one to the IR makes the switches here fail to compile). */
function unhandled(layer: never): never {
  throw new Error(`float64 executor: no rule for layer kind ${(layer as Layer).kind}`);
}

/**
 * Which layer outputs the passes after a forward read: ReLU outputs (their gates), the inputs of
 * conv and linear layers (their weight products) and the logits; of the tangents, those of the conv
 * and linear inputs and of the logits. BN keeps its own x̂. Everything else is dropped once its last
 * reader has run, which about halves the memory of a pass. `lastReader` is −1 for the logits.
 */
function retention(network: Network): { lastReader: Int32Array; keep: boolean[]; keepTangent: boolean[] } {
  const count = network.layers.length;
  const lastReader = new Int32Array(count).fill(-1);
  const readByWeights = new Array<boolean>(count).fill(false);
  network.layers.forEach((layer, id) => {
    for (const input of layerInputs(layer)) {
      lastReader[input] = id;
      if (layer.kind === 'conv' || layer.kind === 'linear') readByWeights[input] = true;
    }
  });
  const keepTangent = readByWeights.map((read, id) => read || id === count - 1);
  const keep = keepTangent.map((kept, id) => kept || network.layers[id].kind === 'relu');
  return { lastReader, keep, keepTangent };
}

/** Drops the outputs of `layer`'s inputs that it reads last and that nothing reads later. */
function dropAfter(layer: Layer, id: LayerId, lastReader: Int32Array, keep: boolean[], outputs: Sparse): void {
  for (const input of layerInputs(layer)) if (lastReader[input] === id && !keep[input]) outputs[input] = undefined;
}

/** The training-mode forward pass of `batch` samples (NCHW). */
export function forward64(kernels: WasmKernels, network: Network, params: readonly Float64Array[], input: Float64Array, batch: number): Pass64 {
  const { lastReader, keep } = retention(network);
  const outputs: Sparse = [];
  const batchNorms: (BatchNormState | undefined)[] = [];
  const argmax: (Int32Array | undefined)[] = [];
  const pass = { kernels, network, batch };
  network.layers.forEach((layer, id) => {
    const y = new Float64Array(batch * tensorSize(layer.shape));
    const xs = layerInputs(layer).map((input) => outputs[input]!);
    switch (layer.kind) {
      case 'input':
        if (input.length !== y.length) throw new RangeError(`float64 forward: ${input.length} input values for ${batch} samples of ${y.length / batch}`);
        y.set(input);
        break;
      case 'batchnorm': {
        const state = { xhat: new Float64Array(y.length), invStd: new Float64Array(layer.shape.channels) };
        batchNormForward(normGeometry(layer, batch), xs[0], params[layer.gamma], params[layer.beta], y, state.xhat, state.invStd);
        batchNorms[id] = state;
        break;
      }
      case 'relu': {
        const x = xs[0];
        for (let i = 0; i < y.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
        break;
      }
      case 'maxpool':
        argmax[id] = new Int32Array(y.length);
        maxPool(poolGeometry(network, layer, batch), xs[0], y, argmax[id]!);
        break;
      case 'linear': {
        const bias = params[layer.bias];
        for (let i = 0; i < y.length; i++) y[i] = bias[i % bias.length];
        applyLinear(pass, id, xs, params[layer.weight], y);
        break;
      }
      default:
        applyLinear(pass, id, xs, layer.kind === 'conv' ? params[layer.weight] : undefined, y);
    }
    outputs.push(y);
    dropAfter(layer, id, lastReader, keep, outputs);
  });
  return { kernels, network, batch, params, outputs, batchNorms, argmax };
}

/** The pass's output (batch × classes for a classifier): always kept. */
export function logits64(pass: Pass64): Float64Array {
  return pass.outputs[pass.outputs.length - 1]!;
}

/** The forward pass's tangent along `paramTangents` (absent entries: that parameter does not move). */
export function tangent64(pass: Pass64, paramTangents: Sparse): Tangent64 {
  const { network, batch, params } = pass;
  const { lastReader, keepTangent } = retention(network);
  const outputs: Sparse = [];
  const batchNorms: Tangent64['batchNorms'][number][] = [];
  network.layers.forEach((layer, id) => {
    const xs = layerInputs(layer).map((input) => outputs[input]);
    const length = batch * tensorSize(layer.shape);
    let y: Float64Array | undefined;
    const out = () => (y ??= new Float64Array(length));
    switch (layer.kind) {
      case 'input':
      case 'zero':
        break;
      case 'batchnorm': {
        const state = pass.batchNorms[id]!;
        const geometry = normGeometry(layer, batch);
        const [gammaDot, betaDot] = [paramTangents[layer.gamma], paramTangents[layer.beta]];
        if (xs[0]) {
          const xhatDot = new Float64Array(length);
          normalisedJacobian(geometry, xs[0], state.xhat, state.invStd, xhatDot);
          batchNorms[id] = { xhatDot, invStdDot: invStdTangent(geometry, xs[0], state.xhat, state.invStd) };
          const gamma = params[layer.gamma];
          const plane = geometry.plane;
          const target = out();
          for (let i = 0; i < length; i++) target[i] += gamma[((i / plane) | 0) % geometry.channels] * xhatDot[i];
        }
        if (gammaDot || betaDot) {
          const target = out();
          const plane = geometry.plane;
          for (let i = 0; i < length; i++) {
            const c = ((i / plane) | 0) % geometry.channels;
            target[i] += (gammaDot ? gammaDot[c] * state.xhat[i] : 0) + (betaDot ? betaDot[c] : 0);
          }
        }
        break;
      }
      case 'relu':
        if (xs[0]) gated(pass.outputs[id]!, xs[0], out());
        break;
      case 'conv':
      case 'linear': {
        const x = pass.outputs[layer.input]!;
        const wDot = paramTangents[layer.weight];
        if (xs[0]) applyLinear(pass, id, xs, params[layer.weight], out());
        if (wDot) applyLinear(pass, id, [x], wDot, out());
        const biasDot = layer.kind === 'linear' ? paramTangents[layer.bias] : undefined;
        if (biasDot) {
          const target = out();
          for (let i = 0; i < length; i++) target[i] += biasDot[i % biasDot.length];
        }
        break;
      }
      default:
        if (xs.some(Boolean)) applyLinear(pass, id, xs, undefined, out(), pass.argmax[id]);
    }
    outputs.push(y);
    dropAfter(layer, id, lastReader, keepTangent, outputs);
  });
  return { params: paramTangents, outputs, batchNorms };
}

export interface BackwardOptions {
  /** Also carry the tangents of the adjoints along this forward tangent (gives `paramTangents`). */
  readonly tangent?: { readonly forward: Tangent64; readonly outputGradient?: Float64Array };
  /** Whether to accumulate the primal parameter gradients (default true). */
  readonly paramGradients?: boolean;
}

/**
 * The reverse pass from ∂/∂output = `outputGradient` (batch × classes): the gradient of every
 * parameter a reachable layer uses, and with `tangent` the tangent of each of those gradients.
 */
export function backward64(pass: Pass64, outputGradient: Float64Array, options: BackwardOptions = {}): Gradients64 {
  const { network, batch, params, outputs } = pass;
  const withParams = options.paramGradients ?? true;
  const tangent = options.tangent?.forward;
  const adjoints: Sparse = [];
  const adjointDots: Sparse = [];
  const paramGradients: Sparse = [];
  const paramTangents: Sparse = [];
  const last = network.layers.length - 1;
  adjoints[last] = Float64Array.from(outputGradient);
  if (options.tangent?.outputGradient) adjointDots[last] = Float64Array.from(options.tangent.outputGradient);
  const adjoint = (id: LayerId) => (adjoints[id] ??= new Float64Array(batch * size(network, id)));
  const adjointDot = (id: LayerId) => (adjointDots[id] ??= new Float64Array(batch * size(network, id)));
  const paramGradient = (param: ParamId) => (paramGradients[param] ??= new Float64Array(params[param].length));
  const paramTangent = (param: ParamId) => (paramTangents[param] ??= new Float64Array(params[param].length));

  for (let id = last; id > 0; id--) {
    const gy = adjoints[id];
    const gyDot = adjointDots[id];
    adjoints[id] = undefined;
    adjointDots[id] = undefined;
    if (!gy && !gyDot) continue;
    const layer = network.layers[id];
    const inputs = layerInputs(layer);
    // The input layer needs no gradient.
    const needs = (input: LayerId) => input > 0;
    switch (layer.kind) {
      case 'conv':
      case 'linear': {
        const x = outputs[layer.input]!;
        const xDot = tangent?.outputs[layer.input];
        const w = params[layer.weight];
        const wDot = tangent?.params[layer.weight];
        const isConv = layer.kind === 'conv';
        const geometry = isConv ? convGeometry(layer, network.layers[layer.input].shape, batch) : undefined;
        const inFeatures = size(network, layer.input);
        const outFeatures = tensorSize(layer.shape);
        const inputGradient = (g: Float64Array, weight: Float64Array, into: Float64Array) =>
          isConv ? convInputGradient(pass.kernels, geometry!, g, weight, into) : linearInputGradient(batch, inFeatures, outFeatures, g, weight, into);
        const weightGradient = (input: Float64Array, g: Float64Array, into: Float64Array) =>
          isConv ? convWeightGradient(pass.kernels, geometry!, input, g, into) : linearWeightGradient(batch, inFeatures, outFeatures, input, g, into);
        if (gy) {
          if (needs(layer.input)) inputGradient(gy, w, adjoint(layer.input));
          if (withParams) weightGradient(x, gy, paramGradient(layer.weight));
        }
        if (tangent) {
          if (needs(layer.input)) {
            if (gyDot) inputGradient(gyDot, w, adjointDot(layer.input));
            if (gy && wDot) inputGradient(gy, wDot, adjointDot(layer.input));
          }
          if (gyDot) weightGradient(x, gyDot, paramTangent(layer.weight));
          if (gy && xDot) weightGradient(xDot, gy, paramTangent(layer.weight));
        }
        if (layer.kind === 'linear') {
          const biasSums = (g: Float64Array, into: Float64Array) => {
            for (let i = 0; i < g.length; i++) into[i % outFeatures] += g[i];
          };
          if (gy && withParams) biasSums(gy, paramGradient(layer.bias));
          if (tangent && gyDot) biasSums(gyDot, paramTangent(layer.bias));
        }
        break;
      }
      case 'batchnorm': {
        const state = pass.batchNorms[id]!;
        const geometry = normGeometry(layer, batch);
        const gamma = params[layer.gamma];
        const bnDot = tangent?.batchNorms[id];
        if (gy) {
          if (needs(layer.input)) normalisedJacobian(geometry, gy, state.xhat, state.invStd, adjoint(layer.input), gamma);
          if (withParams) channelSums(geometry, gy, state.xhat, paramGradient(layer.gamma), paramGradient(layer.beta));
        }
        if (tangent) {
          const gammaDot = tangent.params[layer.gamma];
          if (needs(layer.input) && (gyDot || ((bnDot || gammaDot) && gy))) {
            batchNormInputGradientTangent(geometry, { ...state, gamma }, { ...bnDot, gammaDot }, gy ?? new Float64Array(gyDot!.length), gyDot, adjointDot(layer.input));
          }
          if (gyDot) channelSums(geometry, gyDot, state.xhat, paramTangent(layer.gamma), paramTangent(layer.beta));
          if (gy && bnDot) channelSums(geometry, gy, bnDot.xhatDot, paramTangent(layer.gamma));
        }
        break;
      }
      case 'relu':
        if (!needs(layer.input)) break;
        if (gy) gated(outputs[id]!, gy, adjoint(layer.input));
        if (gyDot) gated(outputs[id]!, gyDot, adjointDot(layer.input));
        break;
      case 'avgpool': {
        if (!needs(layer.input)) break;
        const geometry = poolGeometry(network, layer, batch);
        if (gy) avgPool(geometry, adjoint(layer.input), gy, true);
        if (gyDot) avgPool(geometry, adjointDot(layer.input), gyDot, true);
        break;
      }
      case 'maxpool':
        if (!needs(layer.input)) break;
        if (gy) gatherAt(pass.argmax[id]!, adjoint(layer.input), gy, true);
        if (gyDot) gatherAt(pass.argmax[id]!, adjointDot(layer.input), gyDot, true);
        break;
      case 'sum':
        layer.terms.forEach((term) => {
          if (!needs(term.input)) return;
          if (gy) axpy(term.scale, gy, adjoint(term.input));
          if (gyDot) axpy(term.scale, gyDot, adjointDot(term.input));
        });
        break;
      case 'concat':
        if (gy) concatenate(network, layer, batch, inputs.map((input) => (needs(input) ? adjoint(input) : undefined)), gy, true);
        if (gyDot) concatenate(network, layer, batch, inputs.map((input) => (needs(input) ? adjointDot(input) : undefined)), gyDot, true);
        break;
      case 'gap': {
        if (!needs(layer.input)) break;
        const plane = size(network, layer.input) / layer.shape.channels;
        if (gy) globalAvgPool(adjoint(layer.input), gy, plane, true);
        if (gyDot) globalAvgPool(adjointDot(layer.input), gyDot, plane, true);
        break;
      }
      case 'zero':
      // x·0 passes a zero gradient: left absent, so the layers that only feed it get none (read as 0).
      case 'input':
        break;
      default:
        unhandled(layer);
    }
  }
  return tangent ? { params: paramGradients, paramTangents } : { params: paramGradients };
}
