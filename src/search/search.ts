import { AbortError, TenasInputError, throwIfAborted } from '../errors.js';
import { aliveCount, cloneMasks, type CellMasks, type SearchSpace } from '../spaces/space.js';
import { azCombination, rankCandidates, selectGroupPruned, selectPruned, teNasCombination, type Combination, type PrunedChoice, type ScoredCandidate } from './ranking.js';
import { field, indicatorFields, INDICATORS } from '../metrics/indicators.js';
import type { Indicator } from '../metrics/indicator.js';
import { resolveIndicators } from '../metrics/registry.js';
import { dispatchOrder, type CandidateMeasurement, type CandidateTask } from './scorer.js';
import type { SearchSettings } from './settings.js';

/** Runs the candidates of one round; results come back in task order whatever the execution order. */
export interface CandidateRunner {
  run(tasks: CandidateTask[], onTaskDone: () => void, signal?: AbortSignal): Promise<CandidateMeasurement[]>;
}

export interface SearchProgress {
  readonly stage: 'op' | 'edge';
  readonly round: number;
  /** Candidates finished in this round, and the round's total. */
  readonly candidate: number;
  readonly candidates: number;
  /** Candidates finished in the whole search, and its total. */
  readonly done: number;
  readonly total: number;
  readonly elapsedSeconds: number;
  /** Remaining time at the average pace so far; undefined before the first candidate finishes. */
  readonly etaSeconds: number | undefined;
}

/**
 * One candidate of a round: where it is, then per indicator of the run its measurements
 * (`kappaOrigin`, `kappaCandidate`: one per repeat), its delta and its rank (`deltaKappa`, `rankKappa`).
 */
export type CandidateRecord = {
  readonly cell: string;
  readonly edge: number;
  readonly op: string;
} & { readonly [field: string]: string | number | number[] };

export interface RoundRecord {
  readonly round: number;
  readonly stage: 'op' | 'edge';
  /** Ops pruned per edge (op stage) or edges kept per node (edge stage). */
  readonly pruneNumber: number;
  readonly candidates: CandidateRecord[];
  readonly pruned: { cell: string; edge: number; op: string }[];
  readonly seconds: number;
  /** The supernet after this round, as text. */
  readonly mask: string;
}

export interface SearchOutcome {
  readonly mask: CellMasks;
  readonly arch: string;
  readonly history: RoundRecord[];
  readonly seconds: number;
}

export interface SearchRunOptions {
  /** How the indicators' deltas become a pruning order (default: the settings' `combine`). */
  readonly combination?: Combination;
  readonly onProgress?: (progress: SearchProgress) => void;
  readonly signal?: AbortSignal;
}

/** NumPy's mean of a short float64 vector (pairwise summation over 8 partial sums from n = 8 on). */
export function numpyMean(values: readonly number[]): number {
  const n = values.length;
  if (n < 8) return values.reduce((sum, value) => sum + value, 0) / n;
  const partial = values.slice(0, 8);
  let i = 8;
  for (; i + 8 <= n; i += 8) for (let j = 0; j < 8; j++) partial[j] += values[i + j];
  let sum = partial[0] + partial[1] + (partial[2] + partial[3]) + (partial[4] + partial[5] + (partial[6] + partial[7]));
  for (; i < n; i++) sum += values[i];
  return sum / n;
}

/**
 * Each indicator's delta: the mean over repeats of the rounded relative change (origin − candidate) / |origin|.
 * (κ and R are positive, so this is TE-NAS's (origin − candidate) / origin; the |·| keeps the sign
 * meaningful for proxies with negative values, e.g. grasp.)
 */
export function candidateDeltas(m: CandidateMeasurement | CandidateRecord, indicators: readonly Indicator[] = INDICATORS): number[] {
  return indicators.map((indicator) => {
    const { origin, candidate } = indicatorFields(indicator);
    const candidates = field<number[]>(m, candidate);
    return numpyMean(field<number[]>(m, origin).map((value, r) => indicator.roundDelta((value - candidates[r]) / Math.abs(value))));
  });
}

/** The combination a search's settings name. */
export function combinationOf(method: SearchSettings['combine']): Combination {
  return method === 'az' ? azCombination : teNasCombination;
}

interface Candidate {
  readonly cellType: number;
  readonly edge: number;
  readonly op: number;
}

function opCandidates(mask: CellMasks): Candidate[] {
  const candidates: Candidate[] = [];
  mask.forEach((cell, cellType) =>
    cell.forEach((edge, edgeIndex) => {
      if (aliveCount(edge) <= 1) return;
      edge.forEach((alive, op) => {
        if (alive) candidates.push({ cellType, edge: edgeIndex, op });
      });
    }),
  );
  return candidates;
}

function withoutOp(mask: CellMasks, candidate: Candidate): CellMasks {
  const next = cloneMasks(mask);
  next[candidate.cellType][candidate.edge][candidate.op] = false;
  return next;
}

function isSinglePath(mask: CellMasks): boolean {
  return mask.every((cell) => cell.every((edge) => aliveCount(edge) === 1));
}

/** How many candidates the op stage and the edge stage will score (for the ETA). */
export function plannedCandidateCount(space: SearchSpace, settings: SearchSettings): number {
  const start = space.supernetMask();
  let alive = aliveCount(start[0][0]);
  const edges = start.length * space.edgeCount;
  let total = 0;
  while (alive > 1) {
    total += edges * alive;
    alive -= Math.min(settings.pruneNumber, alive - 1);
  }
  for (const [from, to] of space.edgeGroups) if (to - from > 2) total += start.length * (to - from);
  return total;
}

/**
 * The TE-NAS pruning search (docs/algorithm.md §10): op rounds until one op per edge, then (DARTS) edge
 * pruning to two inputs per node. Each round's candidates are scored by `runner`; ranking and
 * selection follow the released code's rounding and tie rules exactly.
 */
export async function runSearch(
  space: SearchSpace,
  settings: SearchSettings,
  runner: CandidateRunner,
  options: SearchRunOptions = {},
): Promise<SearchOutcome> {
  const { signal, onProgress } = options;
  const indicators = resolveIndicators(settings.indicators);
  const combination = options.combination ?? combinationOf(settings.combine);
  const started = performance.now();
  const total = plannedCandidateCount(space, settings);
  let done = 0;
  const history: RoundRecord[] = [];
  let mask = space.supernetMask();
  let round = 0;

  const scoreRound = async (stage: 'op' | 'edge', candidates: Candidate[], tasks: CandidateTask[]) => {
    let finished = 0;
    const report = () => {
      const elapsedSeconds = (performance.now() - started) / 1000;
      onProgress?.({
        stage,
        round,
        candidate: finished,
        candidates: tasks.length,
        done,
        total,
        elapsedSeconds,
        etaSeconds: done > 0 ? (elapsedSeconds / done) * (total - done) : undefined,
      });
    };
    report();
    const order = dispatchOrder(space, settings, tasks);
    const inOrder = await runner.run(
      order.map((position) => tasks[position]),
      () => {
        finished++;
        done++;
        report();
      },
      signal,
    );
    throwIfAborted(signal);
    const measurements = new Array<CandidateMeasurement>(tasks.length);
    order.forEach((position, i) => (measurements[position] = inOrder[i]));
    const scored: ScoredCandidate[] = candidates.map((c, i) => ({ ...c, deltas: candidateDeltas(measurements[i], indicators) }));
    for (const candidate of scored) {
      if (!candidate.deltas.every(Number.isFinite)) {
        const scores = indicators.map((indicator, i) => `Δ${indicator.symbol}=${candidate.deltas[i]}`).join(', ');
        const hint = indicators.some((indicator) => indicator.name === 'ntk') ? 'the NTK is numerically singular for this data: try a smaller --batch' : 'an indicator is zero or not finite on the supernet: choose other --indicators';
        throw new TenasInputError(`round ${round}: candidate ${describe(space, candidate)} has a non-finite score (${scores}); ${hint}`);
      }
    }
    const ranking = rankCandidates(scored, indicators, combination);
    return { scored, ranking, measurements };
  };

  const record = (
    stage: 'op' | 'edge',
    pruneNumber: number,
    candidates: Candidate[],
    scores: Awaited<ReturnType<typeof scoreRound>>,
    pruned: PrunedChoice[],
    roundStarted: number,
  ): RoundRecord => ({
    round,
    stage,
    pruneNumber,
    candidates: candidates.map((c, i) => {
      const fields = indicators.map(indicatorFields);
      const ranks = [...fields.map((f, k) => [f.delta, scores.scored[i].deltas[k]]), ...fields.map((f, k) => [f.rank, scores.ranking.ranks[k][i]])];
      return { cell: space.cellTypes[c.cellType], edge: c.edge, op: space.ops[c.op], ...scores.measurements[i], ...Object.fromEntries(ranks) };
    }),
    pruned: pruned.map((p) => ({ cell: space.cellTypes[p.cellType], edge: p.edge, op: space.ops[p.op] })),
    seconds: (performance.now() - roundStarted) / 1000,
    mask: space.formatMask(mask),
  });

  while (!isSinglePath(mask)) {
    const roundStarted = performance.now();
    const pruneNumber = Math.min(settings.pruneNumber, aliveCount(mask[0][0]) - 1);
    const candidates = opCandidates(mask);
    const tasks = candidates.map((candidate, index) => {
      const next = withoutOp(mask, candidate);
      return { round, index, ntkDrawRound: round, masks: { ntk: { origin: mask, candidate: next }, thin: { origin: mask, candidate: next } } };
    });
    const scores = await scoreRound('op', candidates, tasks);
    const pruned = selectPruned(scores.scored, scores.ranking, pruneNumber);
    mask = cloneMasks(mask);
    for (const p of pruned) mask[p.cellType][p.edge][p.op] = false;
    history.push(record('op', pruneNumber, candidates, scores, pruned, roundStarted));
    round++;
  }

  // DARTS edge pruning (docs/algorithm.md §10.2). FAITHFUL: the NTK baseline stays the mask from before
  // this stage, with one NTK weight draw for the whole stage.
  const stageStart = mask;
  const stageRound = round;
  for (let cellType = 0; cellType < mask.length && space.edgeGroups.length > 0; cellType++) {
    for (const [from, to] of space.edgeGroups) {
      if (to - from <= 2) continue;
      const roundStarted = performance.now();
      const candidates: Candidate[] = [];
      for (let edge = from; edge < to; edge++) {
        const op = mask[cellType][edge].indexOf(true);
        if (op >= 0) candidates.push({ cellType, edge, op });
      }
      const tasks = candidates.map((candidate, index) => {
        const next = withoutOp(mask, candidate);
        const ntkOrigin = settings.protocol === 'reference' ? stageStart : mask;
        return { round, index, ntkDrawRound: stageRound, masks: { ntk: { origin: ntkOrigin, candidate: next }, thin: { origin: mask, candidate: next } } };
      });
      const scores = await scoreRound('edge', candidates, tasks);
      const pruned = selectGroupPruned(scores.scored, scores.ranking, 2);
      mask = cloneMasks(mask);
      for (const p of pruned) mask[p.cellType][p.edge][p.op] = false;
      history.push(record('edge', 2, candidates, scores, pruned, roundStarted));
      round++;
    }
  }

  if (signal?.aborted) throw new AbortError();
  return { mask, arch: space.formatArchitecture(mask), history, seconds: (performance.now() - started) / 1000 };
}

function describe(space: SearchSpace, c: Candidate): string {
  return `${space.cellTypes.length > 1 ? `${space.cellTypes[c.cellType]} ` : ''}edge ${c.edge} op ${space.ops[c.op]}`;
}
