/**
 * Ranking and selection of one pruning round, exactly as the released code does it
 * (prune_tenas.py L147-184; docs/algorithm.md §9.4–9.5 and §10.2).
 */
import { INDICATORS } from '../metrics/indicators.js';
import type { Indicator } from '../metrics/indicator.js';
import { roundTo } from './rounding.js';
import { averageRanks } from '../evaluation/statistics.js';
import { azNasAggregate } from '../metrics/aggregation.js';

/** One "remove this op" candidate with its indicators' deltas (means over the repeats). */
export interface ScoredCandidate {
  cellType: number;
  edge: number;
  op: number;
  /** One mean rounded delta per indicator of the run, in its order. */
  deltas: readonly number[];
}

/** What a ranking needs of an indicator: its symbol (for messages) and direction. */
export type RankedIndicator = Pick<Indicator, 'symbol' | 'higherIsBetter'>;

export interface CandidateRanking {
  /** Per indicator, the dense rank of each candidate, indexed like the input. */
  ranks: number[][];
  /** Candidate indices sorted by the combination (first = most prunable). */
  order: number[];
}

/** Combines the indicators' deltas of a round (candidates in enumeration order) into ranks and a pruning order. */
export type Combination = (deltas: readonly (readonly number[])[], indicators: readonly RankedIndicator[]) => CandidateRanking;

export interface PrunedChoice {
  cellType: number;
  edge: number;
  op: number;
}

/**
 * Candidate indices stably sorted by `keys[index]`; JS sort is stable since ES2019, like Python's
 * `sorted`, also with `reverse=True` (equal keys keep their order either way).
 */
function stableSortIndices(indices: readonly number[], keys: readonly number[], descending: boolean): number[] {
  const direction = descending ? -1 : 1;
  return [...indices].sort((a, b) => {
    const ka = keys[a]!;
    const kb = keys[b]!;
    if (ka === kb) return 0;
    return ka < kb ? -direction : direction;
  });
}

/**
 * Dense ranks along `sortedIndices`: the first gets 0, each next one the previous rank if its raw
 * value equals the previous raw value exactly, else previous + 1. The sort used the rounded key, the
 * comparison uses raw values (L149-158), so equal keys with different raw values get distinct ranks.
 */
function denseRanksOnRawValues(sortedIndices: readonly number[], rawValue: (index: number) => number, count: number): number[] {
  const ranks = new Array<number>(count).fill(0);
  sortedIndices.forEach((candidate, position) => {
    if (position === 0) return;
    const previous = sortedIndices[position - 1]!;
    ranks[candidate] = rawValue(candidate) === rawValue(previous) ? ranks[previous]! : ranks[previous]! + 1;
  });
  return ranks;
}

function assertFiniteScores(candidates: readonly ScoredCandidate[], indicators: readonly RankedIndicator[]): void {
  candidates.forEach((candidate, index) => {
    if (!candidate.deltas.every(Number.isFinite)) {
      const scores = indicators.map((indicator, i) => `Δ${indicator.symbol}=${candidate.deltas[i]}`).join(', ');
      throw new RangeError(`candidate ${index} (cell type ${candidate.cellType}, edge ${candidate.edge}, op ${candidate.op}) has a non-finite score: ${scores}`);
    }
  });
}

/**
 * TE-NAS's combination (docs/algorithm.md §9.4): each indicator's deltas sorted by their `round_to` key
 * (descending when lower values are better: removing the op improved it most), dense ranks on the
 * raw values, then the rank sum; ties keep enumeration order, rank-sum ties the first indicator's order.
 */
export const teNasCombination: Combination = (deltas, indicators) => {
  const count = deltas.length;
  const enumerationOrder = deltas.map((_, index) => index);
  const sorted = indicators.map((indicator, i) =>
    stableSortIndices(enumerationOrder, deltas.map((d) => roundTo(d[i], 3)), !indicator.higherIsBetter),
  );
  const ranks = indicators.map((_, i) => denseRanksOnRawValues(sorted[i], (index) => deltas[index][i], count));
  // The rank dict is filled in the first indicator's sorted order, so rank-sum ties keep that order.
  const rankSums = enumerationOrder.map((index) => ranks.reduce((sum, rank) => sum + rank[index], 0));
  const order = count === 0 ? [] : stableSortIndices(sorted[0], rankSums, false);
  return { ranks, order };
};

/**
 * AZ-NAS's aggregation (Lee & Ham, CVPR 2024) over the candidates of a round. Each indicator's
 * "removal hurts least" score (−Δ when higher is better, +Δ when lower is better) is ranked
 * ascending, 1-based, ties averaged (`scipy.stats.rankdata`), so the candidate whose removal hurts
 * that indicator least gets n; the aggregate Σ ln(rank / n) is then highest for the most prunable
 * candidate. The order is by aggregate, descending; ties keep enumeration order. `ranks` holds these
 * 1-based ranks (higher = more prunable), not TE-NAS's dense ranks.
 */
export const azCombination: Combination = (deltas, indicators) => {
  const prunable = indicators.map((indicator, i) => deltas.map((d) => (indicator.higherIsBetter ? -d[i] : d[i])));
  const aggregate = Array.from(azNasAggregate(prunable));
  const enumerationOrder = deltas.map((_, index) => index);
  return { ranks: prunable.map((score) => Array.from(averageRanks(score))), order: stableSortIndices(enumerationOrder, aggregate, true) };
};

/**
 * Ranks all candidates of a round jointly. `candidates` must be in enumeration order (cell type,
 * edge, op), which decides every tie. NaN/Infinity scores throw, as `round_to` does.
 */
export function rankCandidates(
  candidates: readonly ScoredCandidate[],
  indicators: readonly RankedIndicator[] = INDICATORS,
  combination: Combination = teNasCombination,
): CandidateRanking {
  assertFiniteScores(candidates, indicators);
  return combination(candidates.map((c) => c.deltas), indicators);
}
function choiceOf(candidate: ScoredCandidate): PrunedChoice {
  return { cellType: candidate.cellType, edge: candidate.edge, op: candidate.op };
}

/**
 * docs/algorithm.md §9.5: walking the rank-sum order, each (cell type, edge) keeps its first `pruneNumber`
 * candidates. The caller clamps `pruneNumber` to (alive ops per edge − 1) first, as L80 does.
 * Returned like the released code's `choices_edges`, flattened: grouped by edge, edges in the order
 * they first appear in the rank-sum order, and within an edge in rank-sum order.
 */
export function selectPruned(
  candidates: readonly ScoredCandidate[],
  ranking: CandidateRanking,
  pruneNumber: number,
): PrunedChoice[] {
  if (!Number.isInteger(pruneNumber) || pruneNumber < 1) {
    throw new RangeError(`pruneNumber must be a positive integer, got ${pruneNumber}`);
  }
  const choicesByEdge = new Map<string, PrunedChoice[]>();
  for (const index of ranking.order) {
    const candidate = candidates[index]!;
    const edgeKey = `${candidate.cellType}:${candidate.edge}`;
    const choices = choicesByEdge.get(edgeKey);
    if (choices === undefined) choicesByEdge.set(edgeKey, [choiceOf(candidate)]);
    else if (choices.length < pruneNumber) choices.push(choiceOf(candidate));
  }
  return [...choicesByEdge.values()].flat();
}

/**
 * docs/algorithm.md §10.2 (DARTS edge pruning within one group): every candidate except the last `keep` in rank-sum
 * order is pruned (`rankings_sum[:-keep]`), in rank-sum order.
 */
export function selectGroupPruned(
  candidates: readonly ScoredCandidate[],
  ranking: CandidateRanking,
  keep = 2,
): PrunedChoice[] {
  if (!Number.isInteger(keep) || keep < 1) {
    throw new RangeError(`keep must be a positive integer, got ${keep}`);
  }
  const prunedCount = Math.max(0, ranking.order.length - keep);
  return ranking.order.slice(0, prunedCount).map((index) => choiceOf(candidates[index]!));
}
