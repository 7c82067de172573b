import type { Backend } from '../engine/backend.js';
import type { Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';
import type { LinearAlgebra } from './linalg.js';

export interface RegionScore {
  /** Distinct activation patterns among all samples of all batches. */
  readonly regions: number;
  readonly features: number;
  readonly firings: number;
  readonly logits: Float32Array[];
}

/** The number of linear regions R: each batch forwarded separately, patterns pooled, rows counted. */
export async function scoreRegions(
  backend: Backend,
  linalg: LinearAlgebra,
  network: Network,
  weights: Weights,
  batches: Float32Array[],
  batchSize: number,
): Promise<RegionScore> {
  const { patterns, logits } = await backend.activationPatterns(network, weights, batches, batchSize);
  return { regions: linalg.countDistinctRows(patterns), features: patterns.features, firings: patterns.firings, logits };
}
