import type { Backend } from '../engine/backend.js';
import type { Network } from '../graph/ir.js';
import type { Weights } from '../graph/weights.js';
import type { Indicator } from './indicator.js';
import type { GramPrecision, LinearAlgebra } from './linalg.js';
import { roundNumpy3 } from '../search/rounding.js';

/**
 * What κ = λmax/λmin becomes when λmin is not positive or the ratio is not finite:
 * - `faithful`: the released code's rule — the raw ratio (negative when λmin < 0), NaN → 1e5,
 *   ±∞ → ±1.7976931348623157e308 (NumPy's nan_to_num);
 * - `floor` (default): λmin is floored at λmax·B·2⁻⁵² (the resolution of a float64 eigen-solve),
 *   so a numerically singular Θ gives a large finite κ with the right sign instead of noise; a zero
 *   NTK (no path from input to logits, e.g. a cell cut by `none` edges) gets the largest finite κ.
 */
export type KappaPolicy = 'floor' | 'faithful';

export interface NtkScore {
  readonly kappa: number;
  readonly eigenvalues: Float64Array;
  readonly gradientDim: number;
  readonly logits: Float32Array;
}

export function conditionNumber(eigenvalues: Float64Array, policy: KappaPolicy): number {
  const lambdaMax = eigenvalues[eigenvalues.length - 1];
  const lambdaMin = eigenvalues[0];
  if (policy === 'floor') {
    if (!(lambdaMax > 0)) return Number.MAX_VALUE;
    const floor = Math.abs(lambdaMax) * eigenvalues.length * Number.EPSILON;
    return lambdaMax / Math.max(lambdaMin, floor, Number.MIN_VALUE);
  }
  const kappa = lambdaMax / lambdaMin;
  if (Number.isNaN(kappa)) return 100000;
  if (kappa === Infinity) return Number.MAX_VALUE;
  if (kappa === -Infinity) return -Number.MAX_VALUE;
  return kappa;
}

export async function scoreNtk(
  backend: Backend,
  linalg: LinearAlgebra,
  network: Network,
  weights: Weights,
  input: Float32Array,
  batch: number,
  options: { precision?: GramPrecision; policy?: KappaPolicy } = {},
): Promise<NtkScore> {
  const { gradients, logits } = await backend.vjp({ network, weights, input, batch, cotangents: { kind: 'sample-sums' }, reduce: 'rows' });
  const theta = linalg.gram(gradients, options.precision);
  const eigenvalues = linalg.eigenvalues(theta, batch);
  return { kappa: conditionNumber(eigenvalues, options.policy ?? 'floor'), eigenvalues, gradientDim: gradients.columns, logits };
}

/** κ of the NTK net; lower is better (trainability). Δκ is rounded as NumPy does (κ is a numpy float64). */
export const ntkIndicator: Indicator<'kappa'> = {
  name: 'ntk',
  key: 'kappa',
  symbol: 'κ',
  title: 'NTK condition number',
  network: 'ntk',
  data: 'samples',
  higherIsBetter: false,
  roundDelta: roundNumpy3,
  measure: async ({ backend, linalg, network, weights, inputs, batch, gramPrecision, kappaPolicy }) => {
    const score = await scoreNtk(backend, linalg, network, weights, inputs[0], batch, { precision: gramPrecision, policy: kappaPolicy });
    return { value: score.kappa, extra: { eigenvalues: Array.from(score.eigenvalues), gradientDim: score.gradientDim } };
  },
  invalidMean: (value) => (value >= 1 ? undefined : 'an NTK condition number κ ≥ 1 (or Infinity)'),
};
