import type { Backend } from '../engine/backend.js';
import type { LayerId, Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';
import type { Indicator } from './indicator.js';
import type { LinearAlgebra } from './linalg.js';
import { roundPython3 } from '../search/rounding.js';

export interface RegionScore {
  /** Distinct activation patterns among all samples of all batches. */
  readonly regions: number;
  readonly features: number;
  readonly firings: number;
  readonly logits: Float32Array[];
}

/** The layers whose sign patterns define a linear region: every ReLU, in execution order. */
export function regionFeatureLayers(network: Network): LayerId[] {
  return network.layers.flatMap((layer, id) => (layer.kind === 'relu' ? [id] : []));
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
  const capture = { layers: regionFeatureLayers(network), as: 'signs' } as const;
  const { signs, logits } = await backend.forward({ network, weights, inputs: batches, batch: batchSize, capture });
  const patterns = signs!;
  return { regions: linalg.countDistinctRows(patterns), features: patterns.features, firings: patterns.firings, logits };
}

/** R of the thin net; higher is better (expressivity). ΔR is rounded as Python does (R is a float there). */
export const regionsIndicator: Indicator<'regions'> = {
  name: 'regions',
  key: 'regions',
  symbol: 'R',
  title: 'linear regions',
  network: 'thin',
  data: 'samples',
  higherIsBetter: true,
  roundDelta: roundPython3,
  measure: async ({ backend, linalg, network, weights, inputs, batch }) => {
    const score = await scoreRegions(backend, linalg, network, weights, [...inputs], batch);
    return { value: score.regions, extra: { features: score.features, firings: score.firings } };
  },
  // A mean of `repeats` region counts (each ≥ 1), so value × repeats is a whole number.
  invalidMean: (value, repeats) => {
    if (!(value >= 1)) return 'a number of at least 1';
    const total = value * repeats;
    if (Number.isFinite(total) && Math.abs(total - Math.round(total)) <= 1e-9 * total) return undefined;
    return `a count of linear regions (${repeats === 1 ? 'a whole number' : `a mean of ${repeats} whole numbers`})`;
  },
};
