import type { Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';

export type BackendName = 'wasm' | 'webgpu';

/** Rows of per-sample gradients: row i = ∂(Σ_c logits[i, c])/∂θ over the NTK columns. */
export interface GradientMatrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly columns: number;
}

/** Sign bits of every executed ReLU output, packed per sample into `words` u32 words. */
export interface PatternMatrix {
  readonly packed: Uint32Array;
  readonly rows: number;
  readonly words: number;
  readonly features: number;
  readonly firings: number;
}

/**
 * What a compute backend must provide. Everything above `src/engine/` talks to this interface and
 * never to a particular backend; the float64 linear algebra and the distinct-row count always run
 * in WebAssembly (see `src/metrics/linalg.ts`).
 */
export interface Backend {
  readonly name: BackendName;
  /** Human-readable facts about where it runs (adapter, SIMD, ...), for reports. */
  readonly info: Readonly<Record<string, string>>;
  /** GPU backends: work submitted by the last evaluation (for benchmarks). */
  readonly lastStats?: { readonly dispatches: number; readonly readbacks: number };
  /** Logits of a train-mode forward pass over `batch` samples (NCHW input). */
  forward(network: Network, weights: Weights, input: Float32Array, batch: number): Promise<Float32Array>;
  /** G for one batch, and the logits of its forward pass. */
  ntkGradients(network: Network, weights: Weights, input: Float32Array, batch: number): Promise<{ gradients: GradientMatrix; logits: Float32Array }>;
  /** Activation patterns of several batches, each forwarded separately (BN statistics per batch). */
  activationPatterns(network: Network, weights: Weights, batches: Float32Array[], batchSize: number): Promise<{ patterns: PatternMatrix; logits: Float32Array[] }>;
  dispose(): void;
}
