import { ntkColumns, tensorSize, withoutBatchNorm, type GradientColumn, type LayerId, type Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';

/**
 * `wasm`: the CPU kernels, the same bits on every machine (the default). `wasm-fma`: the same
 * kernels with fused multiply-add, faster where relaxed SIMD fuses, other bits (never chosen by
 * `auto`). `webgpu`: WGSL compute shaders.
 */
export const BACKEND_NAMES = ['wasm', 'wasm-fma', 'webgpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Row-major float32 matrix. */
export interface GradientMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly columns: number;
}

/** Sign bits of captured layer outputs, packed per sample into `words` u32 words. */
export interface PatternMatrix {
  readonly packed: Uint32Array;
  readonly rows: number;
  readonly words: number;
  /** Bits per row: the captured layers' sizes summed. */
  readonly features: number;
  /** Captured layers. */
  readonly firings: number;
}

/** `train`: BatchNorm normalises with the batch's statistics; `removed`: every BN is the identity. */
export type BatchNormMode = 'train' | 'removed';

interface PassRequest {
  readonly network: Network;
  readonly weights: Weights;
  /** Samples per batch. */
  readonly batch: number;
  readonly batchNorm?: BatchNormMode;
}

export interface ForwardRequest extends PassRequest {
  /** Batches of `batch` samples (NCHW), each forwarded separately (BN statistics per batch). */
  readonly inputs: readonly Float32Array[];
  /**
   * Layer outputs to bring back: as float values (per batch, per layer), or as sign bits packed into
   * one row per sample over all the layers in order (the linear-region fusion: bits are packed on
   * the device and nothing else is read back). A pre-activation is the output of the layer a ReLU reads.
   */
  readonly capture?: { readonly layers: readonly LayerId[]; readonly as: 'values' | 'signs' };
  /** Also bring back every BatchNorm's biased batch variance per channel (Zen-NAS's running-variance bookkeeping). */
  readonly batchNormVariances?: boolean;
}

export interface ForwardResult {
  /** Logits per batch. */
  readonly logits: Float32Array[];
  /** `capture.as === 'values'`: `[batch][layer]`, each `batch × layer size` floats. */
  readonly activations?: Float32Array[][];
  /** `capture.as === 'signs'`: rows = batches × batch. */
  readonly signs?: PatternMatrix;
  /** `batchNormVariances`: `[batch][BN layer, in layer order]`, each one value per channel. */
  readonly batchNormVariances?: Float64Array[][];
}

/** BatchNorm's epsilon (PyTorch's default), which every backend adds to the batch variance. */
export const BATCH_NORM_EPSILON = 1e-5;

/** The BatchNorm layers of a network, in layer order (the order of `batchNormVariances`). */
export function batchNormLayers(network: Network): LayerId[] {
  return network.layers.flatMap((layer, id) => (layer.kind === 'batchnorm' ? [id] : []));
}

/** The biased batch variances behind a BN's float32 1/√(σ² + ε), in float64. */
export function variancesFromInverseStd(inverseStd: ArrayLike<number>): Float64Array {
  return Float64Array.from(inverseStd, (inverse) => 1 / (inverse * inverse) - BATCH_NORM_EPSILON);
}

/**
 * Cotangents on the output (batch × classes each): `sample-sums` is the NTK's — cotangent i is 1
 * on every logit of sample i, 0 elsewhere (seeded on the device, `batch` of them); `given` passes
 * `count` cotangents explicitly (`count × batch × classes` floats).
 */
export type Cotangents = { readonly kind: 'sample-sums' } | { readonly kind: 'given'; readonly data: Float32Array; readonly count: number };

/**
 * How each cotangent's weight gradient comes back: `rows` is the gradient itself, one row per
 * cotangent over the gradient columns (each cotangent's gradient is written straight into its row
 * of G on the device); `param-sums` and `param-square-norms` reduce each column block (one
 * parameter tensor) to Σg or Σg².
 */
export type GradientReduction = 'rows' | 'param-sums' | 'param-square-norms';

export interface VjpRequest extends PassRequest {
  /** One batch of `batch` samples (NCHW); the forward pass runs first and its logits come back. */
  readonly input: Float32Array;
  readonly cotangents: Cotangents;
  readonly reduce: GradientReduction;
  /** Also return ∂/∂input for every cotangent (`count × batch × input size` floats). */
  readonly inputGradient?: boolean;
  /**
   * Layers whose output gradient to return for every cotangent (e.g. each conv's output before its
   * BN, for fisher): `layerGradients[i]` holds `count × batch × size` floats of `captureGradients[i]`,
   * zero where no gradient reaches the layer.
   */
  readonly captureGradients?: readonly LayerId[];
}

export interface VjpResult {
  readonly logits: Float32Array;
  /**
   * Per cotangent: `rows` → count × dimension; the reductions → count × columns.length. The
   * gradient columns are the parameters named `weight` that receive a gradient (`ntkColumns`).
   */
  readonly gradients: GradientMatrix;
  readonly columns: readonly GradientColumn[];
  readonly inputGradients?: Float32Array;
  /** With `captureGradients`: one array per listed layer, in its order. */
  readonly layerGradients?: Float32Array[];
}

/**
 * What a compute backend must provide: the passes every measure is made of. Everything above
 * `src/engine/` talks to this interface and never to a particular backend; the float64 linear
 * algebra and the distinct-row count always run in WebAssembly (see `src/metrics/linalg.ts`).
 */
export interface Backend {
  readonly name: BackendName;
  /** Human-readable facts about where it runs (adapter, SIMD, ...), for reports. */
  readonly info: Readonly<Record<string, string>>;
  /** GPU backends: work submitted by the last evaluation (for benchmarks). */
  readonly lastStats?: { readonly dispatches: number; readonly readbacks: number };
  forward(request: ForwardRequest): Promise<ForwardResult>;
  /** A forward pass, then one reverse pass per cotangent through the whole batch. */
  vjp(request: VjpRequest): Promise<VjpResult>;
  dispose(): void;
}

/** The network a request runs: BN removed when asked. */
export function executedNetwork(request: PassRequest): Network {
  return request.batchNorm === 'removed' ? withoutBatchNorm(request.network) : request.network;
}

export function cotangentCount(cotangents: Cotangents, batch: number): number {
  return cotangents.kind === 'sample-sums' ? batch : cotangents.count;
}

/** Floats per sample of the network's output (its last layer). */
export function outputSize(network: Network): number {
  return tensorSize(network.layers[network.layers.length - 1].shape);
}

/** Checks the sizes of a request's arrays against its network, before any work is recorded. */
export function checkVjpRequest(request: VjpRequest, network: Network): void {
  const sampleFloats = tensorSize(network.input);
  if (request.input.length !== request.batch * sampleFloats) throw new RangeError(`vjp input has ${request.input.length} floats, expected batch ${request.batch} × ${sampleFloats}`);
  const { cotangents } = request;
  if (cotangents.kind === 'given' && cotangents.data.length !== cotangents.count * request.batch * outputSize(network)) {
    throw new RangeError(`vjp cotangents hold ${cotangents.data.length} floats, expected count ${cotangents.count} × batch ${request.batch} × output size ${outputSize(network)}`);
  }
  const unknown = request.captureGradients?.find((id) => !Number.isInteger(id) || id < 0 || id >= network.layers.length);
  if (unknown !== undefined) throw new RangeError(`vjp captureGradients names layer ${unknown}, which ${network.label} (${network.layers.length} layers) does not have`);
}

export function checkForwardRequest(request: ForwardRequest, network: Network): void {
  const floats = request.batch * network.input.channels * network.input.height * network.input.width;
  for (const input of request.inputs) if (input.length !== floats) throw new RangeError(`forward batch has ${input.length} floats, expected ${floats}`);
}

/** Applies a reduction to rows of G read back from a backend. */
export function reduceGradientRows(rows: GradientMatrix, network: Network, reduce: GradientReduction): GradientMatrix {
  if (reduce === 'rows') return rows;
  const { columns } = ntkColumns(network);
  const data = new Float32Array(rows.rows * columns.length);
  for (let r = 0; r < rows.rows; r++) {
    const row = rows.data.subarray(r * rows.columns, (r + 1) * rows.columns);
    columns.forEach((column, c) => {
      const end = column.offset + network.params[column.param].size;
      let total = 0;
      for (let i = column.offset; i < end; i++) total += reduce === 'param-sums' ? row[i] : row[i] * row[i];
      data[r * columns.length + c] = total;
    });
  }
  return { data, rows: rows.rows, columns: columns.length };
}
