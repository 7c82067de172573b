/**
 * Ranking and selection of one pruning round, exactly as the released code does it
 * (prune_tenas.py L147-184; docs/algorithm.md §9.4–9.5 and §10.2).
 */
import { roundTo } from './rounding.js';

/** One "remove this op" candidate with its two scores (means over the repeats). */
export interface ScoredCandidate {
  cellType: number;
  edge: number;
  op: number;
  /** Δκ: higher ⇒ removing the op lowers κ more ⇒ more likely pruned. */
  deltaKappa: number;
  /** ΔR: lower ⇒ removing the op costs fewer linear regions ⇒ more likely pruned. */
  deltaRegions: number;
}

export interface CandidateRanking {
  /** Dense NTK rank of each candidate, indexed like the input. */
  rankKappa: number[];
  /** Dense linear-region rank of each candidate, indexed like the input. */
  rankRegions: number[];
  /** Candidate indices sorted by rank sum (first = most prunable). */
  order: number[];
}

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

function assertFiniteScores(candidates: readonly ScoredCandidate[]): void {
  candidates.forEach((candidate, index) => {
    if (!Number.isFinite(candidate.deltaKappa) || !Number.isFinite(candidate.deltaRegions)) {
      throw new RangeError(
        `candidate ${index} (cell type ${candidate.cellType}, edge ${candidate.edge}, op ${candidate.op}) ` +
          `has a non-finite score: Δκ=${candidate.deltaKappa}, ΔR=${candidate.deltaRegions}`,
      );
    }
  });
}

/**
 * Ranks all candidates of a round jointly (docs/algorithm.md §9.4). `candidates` must be in enumeration order
 * (cell type, edge, op), which decides every tie. NaN/Infinity scores throw, as `round_to` does.
 */
export function rankCandidates(candidates: readonly ScoredCandidate[]): CandidateRanking {
  assertFiniteScores(candidates);
  const count = candidates.length;
  const enumerationOrder = candidates.map((_, index) => index);
  const kappa = (index: number): number => candidates[index]!.deltaKappa;
  const regions = (index: number): number => candidates[index]!.deltaRegions;

  const byKappa = stableSortIndices(enumerationOrder, candidates.map((c) => roundTo(c.deltaKappa, 3)), true);
  const rankKappa = denseRanksOnRawValues(byKappa, kappa, count);
  const byRegions = stableSortIndices(enumerationOrder, candidates.map((c) => roundTo(c.deltaRegions, 3)), false);
  const rankRegions = denseRanksOnRawValues(byRegions, regions, count);

  // The rank dict is filled in NTK-sorted order, so rank-sum ties keep that order.
  const rankSums = rankKappa.map((rank, i) => rank + rankRegions[i]!);
  const order = stableSortIndices(byKappa, rankSums, false);
  return { rankKappa, rankRegions, order };
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
