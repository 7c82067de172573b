import { averageRanks } from '../evaluation/statistics.js';

/**
 * Combining several indicators measured on the same set of architectures into one score per
 * architecture (docs/proxies.md): TE-NAS's rank sum and AZ-NAS's logarithmic rank aggregation.
 */

/** One indicator's values over the architectures, and its direction. */
export interface IndicatorColumn {
  readonly values: ArrayLike<number>;
  readonly higherIsBetter: boolean;
}

function requireSameLength(columns: readonly { readonly values: ArrayLike<number> }[]): number {
  if (columns.length === 0) throw new RangeError('a combination needs at least one indicator');
  const count = columns[0].values.length;
  const other = columns.find((column) => column.values.length !== count);
  if (other) throw new RangeError(`the indicators were measured on different numbers of architectures (${count} and ${other.values.length})`);
  return count;
}

/**
 * TE-NAS's combination for any indicators: each ranked best first (1 = best, ties share their
 * average rank), the ranks added. A lower sum is a better architecture.
 */
export function rankSum(columns: readonly IndicatorColumn[]): Float64Array {
  const sums = new Float64Array(requireSameLength(columns));
  for (const { values, higherIsBetter } of columns) {
    const ranks = averageRanks(Array.from(values, (value) => (higherIsBetter ? -value : value)));
    ranks.forEach((rank, index) => (sums[index] += rank));
  }
  return sums;
}

/** AZ-NAS's four proxies in the order the aggregation sums them (the notebook starts from FLOPs). */
export const AZ_NAS_PROXIES = ['az_complexity', 'az_expressivity', 'az_progressivity', 'az_trainability'] as const;

/**
 * AZ-NAS's aggregation (NB201 `tss_general.ipynb`): agg(a) = Σ_m ln(rank_m(a) / N) over the
 * proxies in the given order, rank_m = scipy `rankdata` of proxy m (ascending from 1, exact ties
 * averaged; NaN counts as −∞, and every −∞ ties with every other). Each proxy is higher-is-better;
 * agg ≤ 0 and higher is better.
 */
export function azNasAggregate(scores: readonly ArrayLike<number>[]): Float64Array {
  const count = requireSameLength(scores.map((values) => ({ values })));
  const aggregate = new Float64Array(count);
  for (const values of scores) {
    const ranks = averageRanks(Array.from(values, (value) => (Number.isNaN(value) ? -Infinity : value)));
    ranks.forEach((rank, index) => (aggregate[index] += Math.log(rank / count)));
  }
  return aggregate;
}

/** The index of the largest value, the first one on ties (the architecture the search returns). */
export function argmaxFirst(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}
