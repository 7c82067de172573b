import type { Nb201Table } from '../spaces/nb201/table.js';
import { BENCHMARK_DATASETS, DATASET_LABELS, PAPER_KENDALL_TAU, benchmarkAccuracy, type BenchmarkDataset } from './benchmark.js';
import { describeScoringKey, scoringKeyOf, type CorrelationRow, type ScoringKey } from './rows.js';
import { averageRanks, kendallTau, spearmanRho } from './statistics.js';
import { TenasInputError } from '../errors.js';
import { hasZeroNtk } from './arch-scorer.js';

export interface RankCorrelation {
  /** NaN (null in JSON) with fewer than two archs or a constant score. */
  readonly kendallTau: number;
  readonly spearmanRho: number;
}

export interface CorrelationReport {
  readonly dataset: BenchmarkDataset;
  readonly accuracy: string;
  readonly archs: number;
  /** Archs whose NTK is identically zero; their κ is ZERO_NTK_KAPPA (ranked worst). */
  readonly zeroNtkArchs: number;
  readonly settings: ScoringKey | undefined;
  readonly kappa: RankCorrelation;
  readonly regions: RankCorrelation;
  /** rank(κ ascending) + rank(R descending): lower is better, like κ. */
  readonly combined: RankCorrelation;
  readonly paperKendallTau: typeof PAPER_KENDALL_TAU;
}

/** Points of the report: the scores and the benchmark accuracy of each row. */
export interface ScoredAccuracy {
  readonly kappa: number[];
  readonly regions: number[];
  readonly accuracy: number[];
}

export function requireBenchmarkDataset(name: string): BenchmarkDataset {
  const match = BENCHMARK_DATASETS.find((dataset) => dataset === name);
  if (match === undefined) throw new TenasInputError(`NAS-Bench-201 has accuracies for ${BENCHMARK_DATASETS.join(', ')} only, got '${name}'`);
  return match;
}

export function scoredAccuracy(rows: readonly CorrelationRow[], table: Nb201Table, dataset: BenchmarkDataset): ScoredAccuracy {
  return {
    kappa: rows.map((row) => row.kappa),
    regions: rows.map((row) => row.regions),
    accuracy: rows.map((row) => benchmarkAccuracy(table.lookup(row.arch), dataset)),
  };
}

/**
 * TE-NAS's combined ranking: rank κ ascending and R descending (lower κ and higher R are better),
 * with average ranks for ties, and add the ranks. A lower sum is a better architecture.
 */
export function combinedRankScore(kappa: readonly number[], regions: readonly number[]): Float64Array {
  const kappaRanks = averageRanks(kappa);
  const regionRanks = averageRanks(regions.map((value) => -value));
  return kappaRanks.map((rank, i) => rank + regionRanks[i]);
}

function correlate(score: ArrayLike<number>, accuracy: readonly number[]): RankCorrelation {
  return { kendallTau: kendallTau(score, accuracy), spearmanRho: spearmanRho(score, accuracy) };
}

export function correlationReport(rows: readonly CorrelationRow[], table: Nb201Table, dataset: BenchmarkDataset): CorrelationReport {
  const points = scoredAccuracy(rows, table, dataset);
  return {
    dataset,
    accuracy: `NAS-Bench-201 ${DATASET_LABELS[dataset]} test accuracy (200 epochs)`,
    archs: rows.length,
    zeroNtkArchs: rows.filter((row) => hasZeroNtk(row.kappa)).length,
    settings: rows.length > 0 ? scoringKeyOf(rows[0]) : undefined,
    kappa: correlate(points.kappa, points.accuracy),
    regions: correlate(points.regions, points.accuracy),
    combined: correlate(combinedRankScore(points.kappa, points.regions), points.accuracy),
    paperKendallTau: PAPER_KENDALL_TAU,
  };
}

function signed(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const text = value.toFixed(3);
  return value >= 0 ? ` ${text}` : text;
}

export function formatCorrelationTable(report: CorrelationReport): string {
  const header = ['score', 'Kendall τ-b', 'Spearman ρ', 'paper τ'];
  const body = [
    ['κ (NTK condition number)', report.kappa, report.paperKendallTau.kappa],
    ['R (linear regions)', report.regions, report.paperKendallTau.regions],
    ['rank(κ) + rank(R)', report.combined, report.paperKendallTau.combined],
  ].map(([name, correlation, paper]) => {
    const { kendallTau: tau, spearmanRho: rho } = correlation as RankCorrelation;
    return [name as string, signed(tau), signed(rho), signed(paper as number)];
  });
  const rows = [header, ...body];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const lines = rows.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  '));
  const settings = report.settings ? ` (${describeScoringKey(report.settings)})` : '';
  const zeroNtk =
    report.zeroNtkArchs > 0 ? `${report.zeroNtkArchs} architecture(s) have a zero NTK (no path from the input to the output): κ = ∞, ranked worst\n` : '';
  return (
    `rank correlation with ${report.accuracy} over ${report.archs} architecture(s)${settings}\n` +
    `${lines.join('\n')}\n` +
    zeroNtk +
    'lower κ and a lower rank sum are better, so agreement shows as a negative correlation for them and a positive one for R;\n' +
    "the paper's τ are read off its Figs. 1, 3 and 9 (CIFAR-100 by their axis ranges)\n"
  );
}
